package main

import (
	"strings"
	"testing"
)

// TestContactCommands adds an e-mail and a webhook contact through the CLI,
// lists them, and checks the errors an operator meets.
func TestContactCommands(t *testing.T) {
	env := map[string]string{"ALLIANCE_DB": dsns(t)["sqlite"]}
	cli(t, env, "", "migrate")
	if code, out, errOut := cli(t, env, "", "contact", "add", "--scope", "asn", "--key", "AS64500", "--email", "abuse@network.example.org"); code != exitOK || !strings.Contains(out, "64500") {
		t.Fatalf("add e-mail contact: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, env, "0123456789abcdef-secret\n", "contact", "add", "--scope", "domain", "--key", "Host.Example.test", "--webhook", "https://hooks.example.test/abuse", "--secret-stdin"); code != exitOK {
		t.Fatalf("add webhook contact: %d %s", code, errOut)
	}
	code, out, _ := cli(t, env, "", "contact", "list")
	if code != exitOK || !strings.Contains(out, "64500") || !strings.Contains(out, "host.example.test") || strings.Contains(out, "secret") {
		t.Errorf("contact list: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"contact", "add", "--scope", "asn", "--key", "x", "--email", "a@example.org"}, "AS number"},
		{[]string{"contact", "add", "--scope", "domain", "--key", "example.org"}, "exactly one of --email or --webhook"},
		{[]string{"contact", "add", "--scope", "domain", "--key", "example.org", "--webhook", "https://h.example.org/"}, "--secret-stdin"},
		{[]string{"contact"}, "contact add"},
	} {
		code, _, errOut := cli(t, env, "", tc.args...)
		if code == exitOK || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}
