// Package federation holds what Alliance nodes need to trust each other:
// node identities, signed feed objects, signed requests, and the client
// that pulls a peer's feed. It has no database; the store keeps peers,
// cursors and applied objects, and the app decides what a sharing
// agreement allows.
//
// Trust model:
//
//   - A node is its Ed25519 key. Its node id is derived from the public key
//     ("node-" + 16 bytes of SHA-256, base32), so an id cannot be claimed
//     without the key, and a key change means a new node id. An operator
//     trusts a peer by recording its public key out of band
//     (`alliance peer add --key ed25519:…`); nothing is trusted on first use.
//   - Every feed object is signed by its origin over the RFC 8785 canonical
//     JSON of the object without its signature, and keeps that signature
//     when a node relays it, so the receiver checks the origin, not the
//     relay. An object that fails its check fails its whole page.
//   - Requests between nodes are signed by the sender over the node id,
//     method, host, path with query, date, a random nonce and the SHA-256
//     of the body. The receiver accepts dates within a clock skew (5 minutes
//     by default) and each nonce once; see [Verifier] for the limits of the
//     in-memory replay set when several processes serve one node.
//   - Signatures prove who made an object or request, not that it is
//     allowed: the caller still checks the sharing agreement (kinds, banks,
//     countries) and the addressee before applying anything. The feed
//     cursor and page framing are not signed, so nodes talk over HTTPS.
//
// Only URLs, hashes and metadata travel in objects; this package treats
// bodies as opaque JSON under a size limit and never logs them.
package federation
