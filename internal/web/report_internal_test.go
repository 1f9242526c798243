package web

import (
	"fmt"
	"testing"
)

func TestSplitURLs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		urls  string
		lines string
	}{
		{"one", "https://a.example.test/", "[https://a.example.test/]", "[1]"},
		{"blank lines and CRLF", "\r\n https://a.example.test/ \r\n\r\nhttp://b.example.test/x\r\n",
			"[https://a.example.test/ http://b.example.test/x]", "[2 4]"},
		{"nothing", " \n\t\n", "[]", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			urls, lines := splitURLs(tc.text)
			if got := fmt.Sprint(urls); got != tc.urls {
				t.Errorf("urls = %s, want %s", got, tc.urls)
			}
			if got := fmt.Sprint(lines); got != tc.lines {
				t.Errorf("lines = %s, want %s", got, tc.lines)
			}
		})
	}
}

func TestCamel(t *testing.T) {
	for in, want := range map[string]string{"no data": "NoData", "no-hotline": "NoHotline", "ok": "Ok", "csam": "Csam", "": ""} {
		if got := camel(in); got != want {
			t.Errorf("camel(%q) = %q, want %q", in, got, want)
		}
	}
}
