package main

import (
	"fmt"
	"os"

	"alliance"
)

// loadCapabilities reads the node's list of national capabilities from the
// JSON file at path (--capabilities-file); "" is nil, which the app takes
// as the Model National Response's.
func loadCapabilities(path string) ([]alliance.Capability, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capabilities-file: %w", err)
	}
	defer f.Close()
	caps, err := alliance.LoadCapabilities(f)
	if err != nil {
		return nil, fmt.Errorf("capabilities-file %s: %w", path, err)
	}
	return caps, nil
}
