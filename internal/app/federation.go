package app

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"alliance"
	"alliance/internal/federation"
	"alliance/internal/store"
)

// Federation policy: a peer is pulled continuously while its feed has more,
// every PullInterval when it is caught up, and with backoff when it fails.
const (
	DefaultPullInterval = 2 * time.Second
	pullLease           = 30 * time.Second // one page: a peer claimed by a process that died is pulled again soon
	pullBackoffBase     = 5 * time.Second
	pullBackoffMax      = 10 * time.Minute
	// FeedPageLimit is the most changes one feed page carries, and
	// feedObjectSize the most one signed object carries: signing each
	// change alone would cost more than sending it.
	FeedPageLimit  = 20000
	feedObjectSize = 1000
)

// Object kinds this node exchanges so far.
const (
	KindBankEntries = "bank_entries"  // changes of a shared bank
	KindItemForward = "item_forward"  // an item hosted in the peer's country, for its hotline
	KindItemStatus  = "item_status"   // the takedown status of an item the peer forwarded here
	KindSeries      = "series_status" // a series' stand-down answer: code, owner, status, do-not-duplicate
)

// FederationKinds lists the kinds a sharing agreement may name.
var FederationKinds = []string{KindBankEntries, KindItemForward, KindItemStatus, KindSeries}

// federationState caches the node's identity once loaded.
type federationState struct {
	mu sync.Mutex
	id *federation.Identity
}

// NodeIdentity returns the node's signing identity, making it at the first
// call on a new database: an Ed25519 key pair and the node id derived from
// it, with the home organisation's country.
func (a *App) NodeIdentity(ctx context.Context) (federation.Identity, error) {
	a.fed.mu.Lock()
	defer a.fed.mu.Unlock()
	if a.fed.id != nil {
		return *a.fed.id, nil
	}
	var id federation.Identity
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		nodeID, country, priv, err := tx.NodeIdentity(ctx)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			home, herr := tx.OrganisationByCode(ctx, a.homeOrg)
			if herr != nil {
				return herr
			}
			fresh, ierr := federation.NewIdentity(home.CountryCode)
			if ierr != nil {
				return ierr
			}
			if ierr := tx.InitNodeIdentity(ctx, fresh.NodeID, fresh.Country, fresh.Private); ierr != nil {
				return ierr
			}
			nodeID, country, priv, err = tx.NodeIdentity(ctx)
		}
		if err != nil {
			return err
		}
		id = federation.Identity{NodeID: nodeID, Country: country, Private: ed25519.PrivateKey(priv)}
		return nil
	})
	if err != nil {
		return federation.Identity{}, fmt.Errorf("app: node identity: %w", err)
	}
	a.fed.id = &id
	return id, nil
}

// PeerInput is a peer to record and what is shared with it.
type PeerInput struct {
	URL       string   // base URL of the peer's node, http(s)://host[:port]
	Key       string   // its public key, "ed25519:…" (alliance node shows it)
	Country   string   // its country
	Kinds     []string // object kinds exchanged; all known kinds when empty
	Banks     []string // this node's banks shared with it, OWNER/NAME
	Countries []string // countries whose items are forwarded to it
}

// PutPeer records a peer or replaces its address, key and agreement (the
// system actor: an operator on the CLI). The peer's node id is derived from
// its key. Banks must be this node's; errors name the field.
func (a *App) PutPeer(ctx context.Context, in PeerInput) (store.Peer, error) {
	if !alliance.ActorFromContext(ctx).System {
		return store.Peer{}, alliance.Errorf(alliance.EFORBIDDEN, "Peers are added by the node's operator.")
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(in.URL), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return store.Peer{}, alliance.FieldErrorf("url", "The peer's base URL, such as https://alliance.example.org.")
	}
	pub, err := federation.ParsePublicKey(in.Key)
	if err != nil {
		return store.Peer{}, alliance.FieldErrorf("key", "%s", err.Error())
	}
	p := store.Peer{NodeID: federation.NodeIDOf(pub), URL: u.String(), PublicKey: pub, Country: strings.ToUpper(in.Country)}
	if !alliance.ValidCountryCode(p.Country) {
		return store.Peer{}, alliance.FieldErrorf("country", "An ISO 3166-1 alpha-2 country code such as NL.")
	}
	p.Kinds = in.Kinds
	if len(p.Kinds) == 0 {
		p.Kinds = FederationKinds
	}
	for _, k := range p.Kinds {
		if !slices.Contains(FederationKinds, k) {
			return store.Peer{}, alliance.FieldErrorf("kinds", "Unknown kind %q; known kinds: %s.", k, strings.Join(FederationKinds, ", "))
		}
	}
	for _, cc := range in.Countries {
		cc = strings.ToUpper(strings.TrimSpace(cc))
		if !alliance.ValidCountryCode(cc) {
			return store.Peer{}, alliance.FieldErrorf("countries", "Unknown country %q.", cc)
		}
		p.Countries = append(p.Countries, cc)
	}
	me, err := a.NodeIdentity(ctx)
	if err != nil {
		return store.Peer{}, err
	}
	if p.NodeID == me.NodeID {
		return store.Peer{}, alliance.FieldErrorf("key", "That is this node's own key.")
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		for _, ref := range in.Banks {
			owner, name, ok := strings.Cut(strings.TrimSpace(ref), "/")
			if !ok {
				return alliance.FieldErrorf("banks", "Give banks as OWNER/NAME, not %q.", ref)
			}
			org, err := tx.OrganisationByCode(ctx, strings.ToUpper(owner))
			if err != nil {
				return alliance.FieldErrorf("banks", "No bank %q on this node.", ref)
			}
			b, err := tx.BankByName(ctx, org.ID, name)
			if err != nil {
				return alliance.FieldErrorf("banks", "No bank %q on this node.", ref)
			}
			p.Banks = append(p.Banks, b.OwnerOrg+"/"+b.Name)
		}
		if err := tx.PutPeer(ctx, &p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, a.homeOrg, "peer.put", "peer", p.NodeID))
	})
	if err != nil {
		return store.Peer{}, fmt.Errorf("app: put peer: %w", err)
	}
	return p, nil
}

// Peers returns the node's peers (the system actor or an admin).
func (a *App) Peers(ctx context.Context) ([]store.Peer, error) {
	if _, err := require(ctx, alliance.PermManageUsers); err != nil {
		return nil, err
	}
	var out []store.Peer
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Peers(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: peers: %w", err)
	}
	return out, nil
}

// PeerKey returns the public key of a peer by node id, for verifying its
// requests; false for an unknown node.
func (a *App) PeerKey(ctx context.Context, nodeID string) (ed25519.PublicKey, bool) {
	var p store.Peer
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.PeerByNodeID(ctx, nodeID)
		return err
	})
	if err != nil {
		return nil, false
	}
	return ed25519.PublicKey(p.PublicKey), true
}

// feedEntry is one bank entry change in a bank_entries object.
type feedEntry struct {
	Seq              int64  `json:"seq"`
	Op               string `json:"op"` // add, remove
	Algorithm        string `json:"algorithm"`
	Value            string `json:"value"`
	Profile          string `json:"profile,omitempty"`
	Category         string `json:"category,omitempty"`
	Scheme           string `json:"scheme,omitempty"`
	Series           string `json:"series,omitempty"`
	VictimIdentified *bool  `json:"victim_identified,omitempty"`
	Source           string `json:"source,omitempty"`
}

// bankEntriesBody is the body of a bank_entries object: changes of one
// shared bank, in sequence order.
type bankEntriesBody struct {
	Bank    string      `json:"bank"`
	Changes []feedEntry `json:"changes"`
}

// A feed cursor is "b" and the last bank change sent, then ".o" and the
// last object of the peer's outbox sent: "b120.o7". Cursors of the first
// slice ("b120") read as ".o0".
type feedCursor struct{ bank, outbox int64 }

func parseCursor(s string) (feedCursor, error) {
	var c feedCursor
	if s == "" {
		return c, nil
	}
	bad := alliance.FieldErrorf("after", "Not a cursor of this node's feed.")
	b, o, hasO := strings.Cut(s, ".o")
	n, err := strconv.ParseInt(strings.TrimPrefix(b, "b"), 10, 64)
	if !strings.HasPrefix(b, "b") || err != nil || n < 0 {
		return c, bad
	}
	c.bank = n
	if hasO {
		if c.outbox, err = strconv.ParseInt(o, 10, 64); err != nil || c.outbox < 0 {
			return c, bad
		}
	}
	return c, nil
}

func (c feedCursor) String() string { return fmt.Sprintf("b%d.o%d", c.bank, c.outbox) }

// Feed serves a page of this node's feed to a peer: first the objects
// addressed to it (forwarded items, status of items it forwarded here),
// then the changes of the banks its agreement shares, in objects of up to
// feedObjectSize changes, each signed by this node. A cursor beyond the
// feed's end (from the future) is refused.
func (a *App) Feed(ctx context.Context, peerNodeID, after string, limit int) (federation.Page, error) {
	cur, err := parseCursor(after)
	if err != nil {
		return federation.Page{}, err
	}
	if limit <= 0 || limit > FeedPageLimit {
		limit = FeedPageLimit
	}
	me, err := a.NodeIdentity(ctx)
	if err != nil {
		return federation.Page{}, err
	}
	var (
		changes []store.FeedChange
		outbox  []store.OutboxObject
	)
	page := federation.Page{}
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		p, err := tx.PeerByNodeID(ctx, peerNodeID)
		if err != nil {
			return alliance.Errorf(alliance.EFORBIDDEN, "Unknown peer.")
		}
		last, err := tx.LastBankChange(ctx)
		if err != nil {
			return err
		}
		var lastOut int64
		if outbox, lastOut, err = tx.Outbox(ctx, p.ID, cur.outbox, limit+1); err != nil {
			return err
		}
		if cur.bank > last || cur.outbox > lastOut {
			return alliance.FieldErrorf("after", "The cursor is beyond the end of this node's feed.")
		}
		if len(outbox) > limit {
			outbox, page.More = outbox[:limit], true
			return nil // bank changes after the outbox is drained
		}
		if !slices.Contains(p.Kinds, KindBankEntries) {
			return nil
		}
		var ids []int64
		for _, ref := range p.Banks {
			owner, name, _ := strings.Cut(ref, "/")
			org, err := tx.OrganisationByCode(ctx, owner)
			if err != nil {
				continue // the bank's owner is gone: nothing to share
			}
			if b, err := tx.BankByName(ctx, org.ID, name); err == nil {
				ids = append(ids, b.ID)
			}
		}
		changes, err = tx.BankFeed(ctx, ids, cur.bank, limit+1-len(outbox))
		return err
	})
	if err != nil {
		return federation.Page{}, fmt.Errorf("app: feed for %s: %w", peerNodeID, err)
	}
	for _, o := range outbox {
		page.Objects = append(page.Objects, federation.Object{Kind: o.Kind, ID: o.ObjectID, To: peerNodeID,
			Created: o.CreatedAt.UTC(), Body: json.RawMessage(o.Body)})
		cur.outbox = o.Seq
	}
	if room := limit - len(outbox); len(changes) > room {
		changes, page.More = changes[:room], true
	}
	// Consecutive changes of one bank go into one object; the objects are
	// signed side by side below (canonical JSON is most of the cost).
	for start := 0; start < len(changes); {
		end := start + 1
		for end < len(changes) && end-start < feedObjectSize && changes[end].Bank == changes[start].Bank {
			end++
		}
		body := bankEntriesBody{Bank: changes[start].Bank}
		for _, c := range changes[start:end] {
			e := c.Entry
			body.Changes = append(body.Changes, feedEntry{Seq: c.Seq, Op: c.Op, Algorithm: string(e.Algorithm),
				Value: hex.EncodeToString(e.Value), Profile: e.Profile, Category: e.Category, Scheme: e.Scheme,
				Series: e.Series, VictimIdentified: e.VictimIdentified, Source: e.Source})
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return federation.Page{}, fmt.Errorf("app: feed: %w", err)
		}
		page.Objects = append(page.Objects, federation.Object{Kind: KindBankEntries,
			ID:      fmt.Sprintf("bank_changes:%d-%d", changes[start].Seq, changes[end-1].Seq),
			Created: a.now().UTC(), Body: raw})
		cur.bank = changes[end-1].Seq
		start = end
	}
	page.Next = cur.String()
	errs := make([]error, len(page.Objects))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range page.Objects {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = federation.Sign(&page.Objects[i], me)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return federation.Page{}, fmt.Errorf("app: feed: %w", err)
	}
	return page, nil
}

// PullBatch pulls the feeds of up to limit peers that are due, as the node
// itself, and returns how many objects it applied. A page's objects and
// the peer's new cursor are written in one transaction, so a crash neither
// skips nor repeats an object (applying one again changes nothing anyway).
// A peer whose feed has more is due again at once; one caught up after
// PullInterval; one that fails after a growing backoff, its error kept.
func (a *App) PullBatch(ctx context.Context, limit int) (int, error) {
	if alliance.ActorFromContext(ctx).UserID != 0 {
		return 0, alliance.Errorf(alliance.EFORBIDDEN, "Pulls are done by the node itself.")
	}
	if a.peerHTTP == nil {
		return 0, nil
	}
	if limit <= 0 {
		limit = 10
	}
	ctx = alliance.NewContextWithActor(ctx, alliance.SystemActor)
	me, err := a.NodeIdentity(ctx)
	if err != nil {
		return 0, err
	}
	client := &federation.Client{HTTP: a.peerHTTP, Identity: me, Now: a.now}
	var peers []store.Peer
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		peers, err = tx.ClaimPeers(ctx, limit, pullLease)
		return err
	})
	if err != nil || len(peers) == 0 {
		return 0, wrapNonNil("app: pull batch", err)
	}
	applied := 0
	for _, p := range peers {
		n, err := a.pullPeer(ctx, client, p)
		applied += n
		if err != nil && ctx.Err() != nil {
			return applied, fmt.Errorf("app: pull batch: %w", err)
		}
		if err != nil {
			return applied, fmt.Errorf("app: pull batch: %w", err)
		}
	}
	if applied > 0 {
		a.refreshAfterWrite(ctx)
	}
	return applied, nil
}

// applyPage applies a verified page from peer p in tx: objects of kinds
// outside the agreement, or from another origin, are refused, which fails
// the page (nothing is applied, the cursor stays).
func (a *App) applyPage(ctx context.Context, tx *store.Tx, p store.Peer, page federation.Page) (int, error) {
	if len(page.Objects) == 0 {
		return 0, nil
	}
	if err := tx.LockBankChanges(ctx); err != nil {
		return 0, err
	}
	me, err := a.NodeIdentity(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range page.Objects {
		if o.Origin != p.NodeID {
			return 0, fmt.Errorf("object %s: from %s, not the peer", o.ID, o.Origin)
		}
		if o.To != "" && o.To != me.NodeID {
			return 0, fmt.Errorf("object %s: addressed to %s, not this node", o.ID, o.To)
		}
		if !slices.Contains(p.Kinds, o.Kind) {
			return 0, fmt.Errorf("object %s: kind %q is not in the agreement with %s", o.ID, o.Kind, p.NodeID)
		}
		var err error
		switch o.Kind {
		case KindBankEntries:
			var body bankEntriesBody
			if err = json.Unmarshal(o.Body, &body); err == nil {
				err = a.applyBankEntries(ctx, tx, p, body)
			}
		case KindItemForward, KindItemStatus, KindSeries:
			// Addressed objects are applied once (bank changes are
			// idempotent by themselves).
			var fresh bool
			if fresh, err = tx.MarkApplied(ctx, p.ID, o.ID); err == nil && fresh {
				switch o.Kind {
				case KindItemForward:
					err = a.receiveItem(ctx, tx, p, o)
				case KindItemStatus:
					err = a.receiveStatus(ctx, tx, p, o)
				default:
					err = a.receiveSeries(ctx, tx, p, o)
				}
			}
		default:
			err = fmt.Errorf("unknown kind %q", o.Kind)
		}
		if err != nil {
			return 0, fmt.Errorf("object %s: %w", o.ID, err)
		}
		n++
	}
	return n, nil
}

// applyBankEntries mirrors a peer's bank changes into a local bank owned
// by the home organisation, named after the peer and the bank, whose
// entries name their source; lookups include it.
func (a *App) applyBankEntries(ctx context.Context, tx *store.Tx, p store.Peer, body bankEntriesBody) error {
	home, err := tx.OrganisationByCode(ctx, a.homeOrg)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("peer %s %s", p.Country, body.Bank)
	if len(name) > maxBankName {
		return fmt.Errorf("bank name %q too long", body.Bank)
	}
	b, err := tx.BankByName(ctx, home.ID, name)
	if alliance.ErrorCode(err) == alliance.ENOTFOUND {
		b = alliance.Bank{Name: name, OwnerOrgID: home.ID, PDQThreshold: alliance.MaxPDQThreshold,
			Description: fmt.Sprintf("Replicated from bank %s of node %s (%s).", body.Bank, p.NodeID, p.Country)}
		err = tx.CreateBank(ctx, &b)
	}
	if err != nil {
		return err
	}
	maxID, err := tx.MaxBankEntryID(ctx)
	if err != nil {
		return err
	}
	source := fmt.Sprintf("peer %s (%s)", p.Country, p.NodeID)
	var adds []alliance.HashEntry
	var removes []alliance.HashEntry
	for i, c := range body.Changes {
		alg, err := alliance.ParseHashAlgorithm(c.Algorithm)
		if err != nil {
			return fmt.Errorf("change %d: %w", i, err)
		}
		v, err := alg.ParseHashValue(c.Value)
		if err != nil {
			return fmt.Errorf("change %d: %w", i, err)
		}
		e := alliance.HashEntry{Algorithm: alg, Value: v, Profile: c.Profile, Series: c.Series,
			VictimIdentified: c.VictimIdentified, Source: strings.TrimSpace(source + " " + c.Source),
			Classification: alliance.Classification{Scheme: c.Scheme, Category: c.Category}}
		if err := e.Validate(); err != nil {
			return fmt.Errorf("change %d: %w", i, err)
		}
		switch c.Op {
		case "add":
			adds = append(adds, e)
		case "remove":
			removes = append(removes, e)
		default:
			return fmt.Errorf("change %d: unknown op %q", i, c.Op)
		}
	}
	if err := tx.UpsertBankEntries(ctx, b.ID, adds); err != nil {
		return err
	}
	if _, err := tx.LogNewBankEntries(ctx, b.ID, maxID); err != nil {
		return err
	}
	// An entry added again at the origin after a removal is active again.
	if inactive, err := tx.CountInactiveEntries(ctx, b.ID); err != nil {
		return err
	} else if inactive > 0 {
		if _, err := tx.ReactivateEntries(ctx, b.ID, adds); err != nil {
			return err
		}
	}
	for _, e := range removes {
		cur, err := tx.BankEntryByValue(ctx, b.ID, e.Algorithm, e.Value)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if _, err := tx.SetBankEntryActive(ctx, cur.ID, false); err != nil {
			return err
		}
	}
	return nil
}

// forwardBody is the body of an item_forward object: what the destination
// needs to act on a reported URL, and nothing about the reporter.
type forwardBody struct {
	Item       string    `json:"item"` // the origin's item id
	URL        string    `json:"url"`
	Category   string    `json:"category"`
	Country    string    `json:"country"` // hosting country as the origin traced it
	OriginOrg  string    `json:"origin_org"`
	ReportedAt time.Time `json:"reported_at"`
}

// statusBody is the body of an item_status object.
type statusBody struct {
	Item   string    `json:"item"` // the origin's item id
	Status string    `json:"status"`
	Org    string    `json:"org"`
	At     time.Time `json:"at"`
}

// forwardRouted queues, for every item of a trace batch just routed
// forward to a country a peer takes items for, an item_forward object in
// that peer's feed, in the batch's transaction. Where no peer takes the
// country, the item stays with this node's route as before.
func (a *App) forwardRouted(ctx context.Context, tx *store.Tx, applied []store.TraceOutcome) error {
	var peers []store.Peer
	loaded := false
	for _, o := range applied {
		if o.Route == nil || o.Route.Kind != alliance.RouteForward || o.Trace.Country == "" {
			continue
		}
		if !loaded {
			var err error
			if peers, err = tx.Peers(ctx); err != nil {
				return err
			}
			loaded = true
		}
		if len(peers) == 0 {
			continue // not federated: the destination hotline works on this node
		}
		cc := o.Trace.Country
		i := slices.IndexFunc(peers, func(p store.Peer) bool {
			return slices.Contains(p.Kinds, KindItemForward) && (p.Country == cc || slices.Contains(p.Countries, cc))
		})
		it, err := tx.ItemByID(ctx, o.Claim.ItemID)
		if err != nil {
			return err
		}
		if i < 0 {
			// A federated node keeps what it cannot deliver: the country's
			// hotline has no node peered with this one.
			r := &alliance.Route{Kind: alliance.RouteNoHotline, OrgCode: it.OrgCode,
				Reason: fmt.Sprintf("Hosted in %s (%s), whose hotline has no node peered with this one: kept by %s for police referral and a direct notice to the host.",
					alliance.CountryName(cc), cc, it.OrgCode)}
			if err := tx.Reroute(ctx, it, r); err != nil {
				return err
			}
			continue
		}
		rep, err := tx.ReportByID(ctx, it.ReportID)
		if err != nil {
			return err
		}
		id := strconv.FormatInt(it.ID, 10)
		body, err := json.Marshal(forwardBody{Item: id, URL: it.URL, Category: string(rep.Category), Country: cc,
			OriginOrg: it.OrgCode, ReportedAt: it.CreatedAt})
		if err != nil {
			return err
		}
		if err := tx.QueueOutbox(ctx, peers[i].ID, KindItemForward, "item_forward:"+id, body); err != nil {
			return err
		}
		if err := tx.SetForwarded(ctx, it.ID, peers[i].NodeID); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, auditFor(ctx, it.OrgCode, "item.forward", "item", id)); err != nil {
			return err
		}
	}
	return nil
}

// receiveItem takes an item a peer forwarded: a report received by this
// country's member hotline from the origin's hotline, traced and routed
// here like any report, its status reported back as it moves.
func (a *App) receiveItem(ctx context.Context, tx *store.Tx, p store.Peer, o federation.Object) error {
	var b forwardBody
	if err := json.Unmarshal(o.Body, &b); err != nil {
		return err
	}
	me, err := a.NodeIdentity(ctx)
	if err != nil {
		return err
	}
	hotlines, err := tx.MemberHotlines(ctx)
	if err != nil {
		return err
	}
	code, ok := hotlines[me.Country]
	if !ok {
		code = a.homeOrg
	}
	org, err := tx.OrganisationByCode(ctx, code)
	if err != nil {
		return err
	}
	actor := alliance.Actor{System: true, OrgID: org.ID, OrgCode: org.Code}
	sub, err := prepareReport(actor, ReportInput{URLs: []string{b.URL}, Category: b.Category, Source: string(alliance.SourceHotline),
		Description: fmt.Sprintf("Forwarded by %s (node %s, %s), its item %s.", b.OriginOrg, p.NodeID, p.Country, b.Item)})
	if err != nil {
		return err
	}
	r := sub.report
	r.OrgID, r.OrgCode, r.Reference = org.ID, org.Code, newReference()
	if err := tx.CreateReports(ctx, []store.NewReport{{Report: &r}}); err != nil {
		return err
	}
	it := r.Items[0]
	if err := tx.SetReceived(ctx, it.ID, p.NodeID, b.Item); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, auditFor(alliance.NewContextWithActor(ctx, actor), org.Code, "item.receive", "item",
		strconv.FormatInt(it.ID, 10)))
}

// receiveStatus records the takedown status a peer reports for an item
// this node forwarded to it.
func (a *App) receiveStatus(ctx context.Context, tx *store.Tx, p store.Peer, o federation.Object) error {
	var b statusBody
	if err := json.Unmarshal(o.Body, &b); err != nil {
		return err
	}
	id, err := strconv.ParseInt(b.Item, 10, 64)
	if err != nil {
		return fmt.Errorf("item %q: %w", b.Item, err)
	}
	if err := tx.SetRemoteStatus(ctx, id, p.NodeID, b.Status, b.Org, b.At); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, auditFor(ctx, a.homeOrg, "item.remote_status", "item", b.Item))
}

// seriesBody is the body of a series_status object: the stand-down answer
// of a series, never its notes or contact point.
type seriesBody struct {
	Code           string    `json:"code"`
	Owner          string    `json:"owner"`
	Status         string    `json:"status"`
	DoNotDuplicate bool      `json:"do_not_duplicate"`
	At             time.Time `json:"at"`
}

// shareSeries queues a series' stand-down answer for every peer whose
// agreement takes series, in the transaction of the change; only series
// owned here are shared (a copy received from a peer is not relayed).
func (a *App) shareSeries(ctx context.Context, tx *store.Tx, s alliance.Series) error {
	if s.Refs == remoteSeriesRefs {
		return nil
	}
	peers, err := tx.Peers(ctx)
	if err != nil {
		return err
	}
	var body []byte
	for _, p := range peers {
		if !slices.Contains(p.Kinds, KindSeries) {
			continue
		}
		if body == nil {
			if body, err = json.Marshal(seriesBody{Code: s.Code, Owner: s.OwnerOrg, Status: string(s.Status),
				DoNotDuplicate: s.DoNotDuplicate, At: tx.Now()}); err != nil {
				return err
			}
		}
		id := fmt.Sprintf("series_status:%s:%d", s.Code, tx.Now().UnixMicro())
		if err := tx.QueueOutbox(ctx, p.ID, KindSeries, id, body); err != nil {
			return err
		}
	}
	return nil
}

// remoteSeriesRefs marks a series this node holds as a copy of a peer's.
const remoteSeriesRefs = "copy of a peer node's series"

// receiveSeries keeps a peer's series answer, so the deconfliction answer
// here knows it: a new series is recorded under its owner, a known one (of
// the same owner) takes the new status and flag. A series of the same code
// owned by another agency here is left as it is.
func (a *App) receiveSeries(ctx context.Context, tx *store.Tx, p store.Peer, o federation.Object) error {
	var b seriesBody
	if err := json.Unmarshal(o.Body, &b); err != nil {
		return err
	}
	status, err := alliance.ParseSeriesStatus(b.Status)
	if err != nil {
		return err
	}
	owner, err := tx.OrganisationByCode(ctx, b.Owner)
	if err != nil {
		return fmt.Errorf("series %q: owner %q: %w", b.Code, b.Owner, err)
	}
	s, err := tx.SeriesByCode(ctx, b.Code)
	switch {
	case alliance.ErrorCode(err) == alliance.ENOTFOUND:
		s = alliance.Series{Code: b.Code, Status: status, DoNotDuplicate: b.DoNotDuplicate, Refs: remoteSeriesRefs,
			Contact: owner.Code}
		if err := alliance.ValidateSeries(&s); err != nil {
			return err
		}
		return tx.InsertSeries(ctx, &s, owner.ID)
	case err != nil:
		return err
	case s.OwnerOrg != owner.Code:
		return nil
	}
	if s.Status != status {
		if err := tx.SetSeriesStatus(ctx, s, status, 0, "peer "+p.NodeID, "Reported by the owner's node."); err != nil {
			return err
		}
	}
	s.DoNotDuplicate = b.DoNotDuplicate
	return tx.UpdateSeries(ctx, s)
}

// SeenNonce records a peer's request nonce in the database, shared by
// every server process of the node, and reports whether it is new. A
// database failure counts as seen: the request is refused, never replayed.
func (a *App) SeenNonce(ctx context.Context, nodeID, nonce string, until time.Time) bool {
	fresh := false
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		fresh, err = tx.SeenNonce(ctx, nodeID, nonce, until)
		return err
	})
	if err != nil {
		a.log.ErrorContext(ctx, "federation: record nonce", "node", nodeID, "err", err)
		return false
	}
	return fresh
}

// pagesPerClaim bounds the pages one claim of a peer pulls before it is
// let go, so that one busy peer does not hold a batch job forever.
const pagesPerClaim = 50

// pullPeer pulls a claimed peer's feed, page after page while it has more
// (up to pagesPerClaim): each page and the new cursor in one transaction,
// the next page fetched (and its signatures checked) while the current one
// is written. A failure is recorded on the peer with a backoff; the
// returned error is for the database failing to record it.
func (a *App) pullPeer(ctx context.Context, client *federation.Client, p store.Peer) (int, error) {
	type fetched struct {
		page federation.Page
		err  error
	}
	fetch := func(cursor string) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			page, err := client.Pull(ctx, p.URL, cursor, FeedPageLimit, ed25519.PublicKey(p.PublicKey))
			ch <- fetched{page, err}
		}()
		return ch
	}
	applied := 0
	next := fetch(p.Cursor)
	for pages := 1; ; pages++ {
		f := <-next
		err := f.err
		more := err == nil && f.page.More && pages < pagesPerClaim
		if more {
			next = fetch(f.page.Next) // while this page is written
		}
		if err == nil {
			var n int
			err = a.db.InTx(ctx, func(tx *store.Tx) error {
				n, err = a.applyPage(ctx, tx, p, f.page)
				if err != nil {
					return err
				}
				// Still pulling: the claim is renewed; done: the next pull
				// after the interval, or at once if pages remain.
				due := tx.Now().Add(a.pullInterval)
				switch {
				case more:
					due = tx.Now().Add(pullLease)
				case f.page.More:
					due = tx.Now()
				}
				ok, err := tx.RecordPull(ctx, p, f.page.Next, "", due)
				if err == nil && !ok {
					return fmt.Errorf("claim of peer %s lapsed", p.NodeID) // rolls the page back
				}
				p.Cursor, p.Lease, p.Failures = f.page.Next, due, 0
				return err
			})
			applied += n
		}
		if err != nil {
			if more {
				<-next // let the prefetch finish; its page is dropped
			}
			if ctx.Err() != nil {
				return applied, err
			}
			a.log.WarnContext(ctx, "pull from peer failed", "peer", p.NodeID, "url", p.URL, "failures", p.Failures+1, "err", err)
			msg := err.Error()
			if len(msg) > 500 {
				msg = msg[:500]
			}
			return applied, a.db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.RecordPull(ctx, p, p.Cursor, msg, tx.Now().Add(backoff(pullBackoffBase, pullBackoffMax, p.Failures+1)))
				return err
			})
		}
		if !more {
			return applied, nil
		}
	}
}
