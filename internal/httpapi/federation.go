package httpapi

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/federation"
)

// NewFederation returns the handler of the node-to-node endpoints under
// /federation/v1/: requests must be signed by a known peer's key (see
// federation.Verifier), within the clock skew and never replayed. A
// rejected request is logged with why; the answer says only that it was
// refused.
func NewFederation(a *app.App, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	// Nonces are kept in the database, so a request replayed to another
	// server process of the node is refused as well.
	v := &federation.Verifier{
		Keys: func(nodeID string) (ed25519.PublicKey, bool) { return a.PeerKey(context.Background(), nodeID) },
		Seen: func(nodeID, nonce string, until time.Time) bool {
			return a.SeenNonce(context.Background(), nodeID, nonce, until)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+federation.FeedPath, func(w http.ResponseWriter, r *http.Request) {
		nodeID, err := v.VerifyRequest(r, nil)
		if err != nil {
			log.WarnContext(r.Context(), "federation: request refused", "node", r.Header.Get(federation.HeaderNode),
				"remote", r.RemoteAddr, "err", err)
			code := alliance.EUNAUTHORIZED
			if errors.Is(err, federation.ErrUnknownPeer) {
				code = alliance.EFORBIDDEN
			}
			WriteError(w, alliance.Errorf(code, "The request is not signed by a known peer."))
			return
		}
		limit := 0
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				WriteError(w, alliance.FieldErrorf("limit", "limit must be a positive whole number."))
				return
			}
			limit = n
		}
		ctx := alliance.NewContextWithActor(r.Context(), alliance.SystemActor)
		page, err := a.Feed(ctx, nodeID, r.URL.Query().Get("after"), limit)
		if err != nil {
			if alliance.ErrorCode(err) == alliance.EINTERNAL {
				log.ErrorContext(r.Context(), "federation: feed", "node", nodeID, "err", err)
			} else {
				log.WarnContext(r.Context(), "federation: feed refused", "node", nodeID, "err", err)
			}
			WriteError(w, err)
			return
		}
		if page.Objects == nil {
			page.Objects = []federation.Object{}
		}
		_ = WriteJSON(w, http.StatusOK, page)
	})
	mux.HandleFunc("/federation/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, alliance.Errorf(alliance.ENOTFOUND, "No such federation endpoint."))
	})
	return mux
}
