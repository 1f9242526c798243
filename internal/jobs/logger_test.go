package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestQuietRiverLogger(t *testing.T) {
	for _, tt := range []struct {
		level     slog.Level
		wantInfo  bool
		wantWarn  bool
		levelName string
	}{
		{slog.LevelInfo, false, true, "info"},
		{slog.LevelDebug, true, true, "debug"},
		{slog.LevelError, false, false, "error"},
	} {
		t.Run(tt.levelName, func(t *testing.T) {
			var buf bytes.Buffer
			l := quietRiverLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level})))
			l.Info("producer job counts")
			l.Warn("something to see")
			out := buf.String()
			if got := strings.Contains(out, "producer job counts"); got != tt.wantInfo {
				t.Errorf("info shown = %v, want %v:\n%s", got, tt.wantInfo, out)
			}
			if got := strings.Contains(out, "something to see"); got != tt.wantWarn {
				t.Errorf("warn shown = %v, want %v:\n%s", got, tt.wantWarn, out)
			}
			if tt.wantWarn && !strings.Contains(out, "component=river") {
				t.Errorf("River's lines must say where they come from:\n%s", out)
			}
		})
	}
}
