package server

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger returns a logger writing to w at level and above, in format
// "text" (logfmt-like key=value pairs) or "json" (one object a line); any
// other format is an error. It backs the CLI's --log-format flag.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("server: unknown log format %q (want text or json)", format)
	}
}
