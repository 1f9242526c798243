package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestCapabilitiesFile checks the layering of capabilities_file: the file,
// then ALLIANCE_CAPABILITIES_FILE, then --capabilities-file.
func TestCapabilitiesFile(t *testing.T) {
	if Default().CapabilitiesFile != "" {
		t.Errorf("default capabilities file %q, want none (the Model National Response)", Default().CapabilitiesFile)
	}
	path := filepath.Join(t.TempDir(), "alliance.json")
	if err := os.WriteFile(path, []byte(`{"capabilities_file":"from-file.json"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(path); err != nil || c.CapabilitiesFile != "from-file.json" {
		t.Fatalf("file: %q, %v", c.CapabilitiesFile, err)
	}
	env := map[string]string{"ALLIANCE_CAPABILITIES_FILE": "from-env.json"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil || c.CapabilitiesFile != "from-env.json" {
		t.Fatalf("env: %q, %v", c.CapabilitiesFile, err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.Flags(fs, "capabilities-file")
	if err := fs.Parse([]string{"--capabilities-file", "from-flag.json"}); err != nil || c.CapabilitiesFile != "from-flag.json" {
		t.Fatalf("flag: %q, %v", c.CapabilitiesFile, err)
	}
}
