package alliance

import (
	"cmp"
	"slices"
	"time"
)

// FetchStatus is the outcome of the node's fetch of an item's URL.
type FetchStatus string

// The fetch outcomes of an item. A transient failure keeps the item pending
// while it is retried with backoff.
const (
	FetchPending       FetchStatus = "pending"
	FetchFetched       FetchStatus = "fetched"
	FetchNotAccessible FetchStatus = "not_accessible"
)

// Fetch is what the node's fetch of an item's URL found. The content itself
// is never kept: only what its media hash to (Item.Media).
type Fetch struct {
	Status FetchStatus
	// Reason says why the URL was not accessible: dns, refused, timeout,
	// blocked (by the SSRF guard), too_large, http_4xx, http_5xx,
	// redirects, tls or error. Empty when fetched.
	Reason      string
	HTTPStatus  int
	ContentType string // sniffed type of the URL's response
	Page        bool   // the URL was an HTML page whose media were fetched
	Truncated   bool   // the page had more media than the node fetches per page
	Attempts    int
	FetchedAt   time.Time
}

// MediumKind is what a medium of an item is.
type MediumKind string

// The kinds of media.
const (
	MediumImage MediumKind = "image"
	MediumVideo MediumKind = "video"
	MediumOther MediumKind = "other"
)

// MediumStatus says whether a medium was hashed.
type MediumStatus string

// The statuses of a medium.
const (
	MediumHashed   MediumStatus = "hashed"
	MediumFailed   MediumStatus = "failed"
	MediumDeferred MediumStatus = "deferred" // recorded, not fetched (video, for later video hashing)
)

// Medium is one image, video or file an item's URL is or points to: where
// it was found and what it hashes to. Its bytes were hashed in memory and
// dropped.
type Medium struct {
	ID           int64
	ItemID       int64
	Position     int    // order on the page, from 0
	URL          string // absolute URL of the medium
	Source       string // "url" (the item's URL itself), or the HTML that named it: img, srcset, a, og:image, video, …
	Kind         MediumKind
	Status       MediumStatus
	Failure      string // why a failed medium failed, as Fetch.Reason
	HTTPStatus   int
	ContentType  string // sniffed from the content
	DeclaredType string // the Content-Type header as sent
	Size         int64
	// MD5, SHA1, SHA256 and PDQ are raw hash bytes; nil when not computed.
	MD5, SHA1, SHA256, PDQ []byte
	PDQQuality             int
	Profile                string // PDQ profile; empty without PDQ
	FetchedAt              time.Time
	Matches                []MediumMatch
}

// MediumMatch is a bank entry a medium's hash matched when it was recorded.
type MediumMatch struct {
	EntryID   int64
	Bank      string
	BankOrg   string // code of the bank's owner
	Algorithm HashAlgorithm
	Value     []byte // the entry's value
	Distance  int    // PDQ bits; 0 for exact hashes
	Classification
	Series string
	Source string
}

// Known says how much of an item's media matched classified bank entries.
type Known string

// The match states of a fetched item.
const (
	KnownNone    Known = "unmatched" // no medium matched
	KnownPartial Known = "partial"   // some media matched, or matched entries without a classification
	KnownAll     Known = "known"     // every medium matched a classified entry
)

// DecideKnown is the rule for marking an item known. An item is known when
// it has media and every one of them was hashed and matched a classified
// entry: only then may the assessment step skip the analyst, because a
// medium that failed, was deferred or did not match has been seen by no one.
// Its inherited classification is that of the closest classified match
// (lowest distance, then lowest entry id). An item with some matches is
// partial; without any, unmatched.
func DecideKnown(media []Medium) (Known, *Classification) {
	var (
		best     *MediumMatch
		matched  int
		allKnown = len(media) > 0
	)
	for _, m := range media {
		classified := false
		for i := range m.Matches {
			mm := &m.Matches[i]
			if mm.Category == "" {
				continue
			}
			classified = true
			if best == nil || cmp.Or(cmp.Compare(mm.Distance, best.Distance), cmp.Compare(mm.EntryID, best.EntryID)) < 0 {
				best = mm
			}
		}
		if len(m.Matches) > 0 {
			matched++
		}
		if m.Status != MediumHashed || !classified {
			allKnown = false
		}
	}
	switch {
	case allKnown:
		c := best.Classification
		return KnownAll, &c
	case matched > 0:
		return KnownPartial, nil
	}
	return KnownNone, nil
}

// SortMediumMatches orders matches closest first, then by entry id.
func SortMediumMatches(ms []MediumMatch) {
	slices.SortFunc(ms, func(a, b MediumMatch) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.EntryID, b.EntryID))
	})
}
