package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCapabilitiesFile(t *testing.T) {
	if caps, err := loadCapabilities(""); err != nil || caps != nil {
		t.Errorf("no file: %v, %v; want nil (the default list)", caps, err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.json"), filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`[{"code":"GOV-1","domain":"Policy","name":"Strategy"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`[{"code":"gov 1","name":"Strategy"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if caps, err := loadCapabilities(good); err != nil || len(caps) != 1 || caps[0].Code != "GOV-1" {
		t.Errorf("good file: %+v, %v", caps, err)
	}
	if _, err := loadCapabilities(bad); err == nil || !strings.Contains(err.Error(), "bad.json: capabilities[0].code") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := loadCapabilities(filepath.Join(dir, "none.json")); err == nil || !strings.Contains(err.Error(), "capabilities-file") {
		t.Errorf("missing file: %v", err)
	}
}
