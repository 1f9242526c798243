package alliance

import (
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// HashAlgorithm names the algorithm of a bank entry or a query hash.
type HashAlgorithm string

// The hash algorithms banks hold.
const (
	HashPDQ    HashAlgorithm = "pdq"
	HashMD5    HashAlgorithm = "md5"
	HashSHA1   HashAlgorithm = "sha1"
	HashSHA256 HashAlgorithm = "sha256"
)

// HashAlgorithms lists every algorithm, in a stable order for error messages.
var HashAlgorithms = []HashAlgorithm{HashPDQ, HashMD5, HashSHA1, HashSHA256}

// MaxPDQThreshold is the largest PDQ match threshold, in bits, and the
// default of banks and queries that name none (HMA's default as well).
const MaxPDQThreshold = 31

// ParseHashAlgorithm validates an algorithm name (case-insensitive; "sha-1"
// and "sha-256" are accepted as well).
func ParseHashAlgorithm(s string) (HashAlgorithm, error) {
	a := HashAlgorithm(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", ""))
	if slices.Contains(HashAlgorithms, a) {
		return a, nil
	}
	names := make([]string, len(HashAlgorithms))
	for i, a := range HashAlgorithms {
		names[i] = string(a)
	}
	return "", Errorf(EINVALID, "Unknown hash algorithm %q; valid algorithms: %s.", s, strings.Join(names, ", "))
}

// Size returns the length in bytes of a value of the algorithm, 0 if unknown.
func (a HashAlgorithm) Size() int {
	switch a {
	case HashPDQ, HashSHA256:
		return 32
	case HashMD5:
		return 16
	case HashSHA1:
		return 20
	}
	return 0
}

// ParseHashValue decodes the hex form (either case) of a value of algorithm
// a, checking its length.
func (a HashAlgorithm) ParseHashValue(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	n := a.Size()
	if len(s) != 2*n {
		return nil, Errorf(EINVALID, "A %s hash is %d hex digits, not %d.", a, 2*n, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, Errorf(EINVALID, "A %s hash must be hex digits only.", a)
	}
	return b, nil
}

// Bank is a named list of hashes owned by an organisation and shared with
// chosen others, who may match against it.
type Bank struct {
	ID          int64
	Name        string // unique within the owner
	OwnerOrgID  int64
	OwnerOrg    string // code of the owner
	Description string
	// PDQThreshold caps the threshold of PDQ queries against this bank: a
	// query's threshold is min(query's, bank's). 0..MaxPDQThreshold.
	PDQThreshold int
	CreatedAt    time.Time
	Entries      int64    // active entries (filled by listings)
	SharedWith   []string // codes of the organisations it is shared with (filled by listings)
}

// Classification is a category in a named scheme (a VICS profile, say).
// The platform stores neutral category labels only.
type Classification struct {
	Scheme   string
	Category string
}

// HashEntry is one hash of a bank with what is known about it.
type HashEntry struct {
	ID        int64
	BankID    int64
	Algorithm HashAlgorithm
	Value     []byte // raw bytes, HashAlgorithm.Size long
	Profile   string // how a PDQ hash was computed (e.g. "hma")
	Classification
	Series           string
	VictimIdentified *bool
	Source           string
	FirstSeen        time.Time
	LastSeen         time.Time
	AddedBy          int64 // user id; 0 for the system
	Active           bool
}

// Validate checks the algorithm and the value's length.
func (e *HashEntry) Validate() error {
	if e.Algorithm.Size() == 0 {
		_, err := ParseHashAlgorithm(string(e.Algorithm))
		return err
	}
	if len(e.Value) != e.Algorithm.Size() {
		return Errorf(EINVALID, "A %s hash is %d bytes, not %d.", e.Algorithm, e.Algorithm.Size(), len(e.Value))
	}
	return nil
}
