package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"alliance/internal/trace"
)

// traceFlags are the flags of serve and demo that shape the hosting trace.
// They live here rather than in internal/config, so they are set by flag or
// environment only, not by the JSON configuration file.
type traceFlags struct {
	hosts  string // hosts-file path; "" for none
	ranges string // operator ranges CSV path; "" for none
}

// addTraceFlags registers --hosts and --ip-ranges on fs, defaulting to
// ALLIANCE_HOSTS and ALLIANCE_IP_RANGES.
func (m *Main) addTraceFlags(fs *flag.FlagSet) *traceFlags {
	tf := &traceFlags{}
	fs.StringVar(&tf.hosts, "hosts", m.Getenv("ALLIANCE_HOSTS"),
		"hosts file (\"IP name…\" lines) whose names override DNS for the trace (env ALLIANCE_HOSTS)")
	fs.StringVar(&tf.ranges, "ip-ranges", m.Getenv("ALLIANCE_IP_RANGES"),
		"CSV file of cidr,country,asn,org rows that override or add to the bundled IP data (env ALLIANCE_IP_RANGES)")
	return tf
}

// load reads the trace files and returns the resolver (the hosts file in
// front of fallback, or fallback itself when there is none) and the IP data
// (bundled, with the operator's ranges). It logs what it loaded only once
// both files are read, so a bad file makes exactly one line of output.
func (tf *traceFlags) load(fallback trace.Resolver, log *slog.Logger) (trace.Resolver, *trace.DB, error) {
	resolver := fallback
	var hosts *trace.HostsResolver
	if tf.hosts != "" {
		var err error
		hosts, err = readTraceFile("--hosts", tf.hosts, func(r io.Reader) (*trace.HostsResolver, error) {
			return trace.NewHostsResolver(r, fallback)
		})
		if err != nil {
			return nil, nil, err
		}
		resolver = hosts
	}
	ipdb, err := trace.Default()
	if err != nil {
		return nil, nil, fmt.Errorf("bundled IP data: %w", err)
	}
	ranges := 0
	if tf.ranges != "" {
		if ranges, err = readTraceFile("--ip-ranges", tf.ranges, ipdb.LoadRanges); err != nil {
			return nil, nil, err
		}
	}
	if hosts != nil {
		log.Info("trace: hosts file loaded", "file", tf.hosts, "names", hosts.Len())
	}
	if tf.ranges != "" {
		log.Info("trace: operator IP ranges loaded", "file", tf.ranges, "ranges", ranges)
	}
	log.Info("trace: IP data", "data_date", ipdb.DataDate())
	return resolver, ipdb, nil
}

// readTraceFile opens path and parses it with parse. Errors name the flag
// and the file; the parser's own message names the line.
func readTraceFile[T any](flagName, path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("%s: %v", flagName, err) // *PathError names the file
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		// describe gives the operator-safe message ("… file, line 3: …"); it
		// is not wrapped, so the file name stays in the line printed.
		return zero, fmt.Errorf("%s %s: %s", flagName, path, describe(err))
	}
	return v, nil
}
