// Package config owns the node's configuration: one Config struct filled from
// defaults, then an optional JSON file, then ALLIANCE_* environment variables,
// then command-line flags, each overriding the one before.
package config
