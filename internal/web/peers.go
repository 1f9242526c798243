package web

import (
	"net/http"

	"alliance/internal/federation"
	"alliance/internal/store"
)

// peersData is the peers page: this node's identity, to give to the
// operators of other nodes, and the nodes it exchanges with, with how
// their pulls are going.
type peersData struct {
	NodeID, Key, Country string
	Peers                []store.Peer
}

// peers shows the node's federation peers to admins. Peers are added and
// changed by the operator on the command line (alliance peer add).
func (h *handler) peers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := h.app.Peers(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := h.app.NodeIdentity(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "peers", "PeersTitle", peersData{
		NodeID: id.NodeID, Key: federation.EncodePublicKey(id.Public()), Country: id.Country, Peers: list,
	})
}
