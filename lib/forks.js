const b4a = require('b4a')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const m = require('./messages')
const { signedTree, verifyTree } = require('./compat')
const { METHODS } = require('./rpc')

const ZERO = b4a.alloc(32)
// Hypercore's encoding of one signer's signature is under 100 bytes
const MAX_SIGNATURE = 1024
// Checks under way at once: each may cost a request and a storage read
const MAX_CHECKS = 16

// Two signed histories of one log caught at any length. Hypercore raises a conflict when an
// upgrade does not fit what a peer holds, but two peers holding histories of the same length
// never send each other an upgrade: so every entry a peer gives of a log it holds (hello, news,
// directory) carries the log's tree hash at that length, and a peer that holds another tree
// there asks the sender for its signed tree. Two signed trees of one author that differ where
// they should agree are the proof: kept, and spread as a flag on the entries; a peer that sees
// the flag asks for the proof and checks both signatures itself.
class Forks {
  constructor(opts) {
    this.net = opts.net
    this.id = opts.id
    this.log = opts.log
    this.view = opts.view
    this.logs = opts.logs
    // ondispute(hex): a log was found disputed here, to be spread
    this.ondispute = opts.ondispute
    this.emitter = opts.emitter
    this.isClosing = opts.isClosing
    this._checking = new Set()
  }

  // What this peer says with a log it holds at length: { tree, disputed }
  entry(hex, length) {
    let tree = null
    if (hex === this.id) {
      const own = signedTree(this.log.core)
      if (own !== null && own.length === length) tree = own.treeHash
    } else {
      tree = this.logs.treeAt(hex, length)
    }
    return { tree: tree || ZERO, disputed: this.logs.disputed.has(hex) }
  }

  // A peer (remote, a public key) holds the author's log at length, whose tree hash there is
  // tree (zeros: not said), or holds proof that the author signed two histories
  heard(author, length, tree, disputed, remote) {
    const hex = b4a.toString(author, 'hex')
    // The own log is judged by Hypercore's conflict and the own recovery
    if (hex === this.id || this.logs.disputed.has(hex) || this.isClosing()) return
    if (disputed) return this._run(hex, () => this._fetchProof(author, remote))
    if (length === 0 || b4a.equals(tree, ZERO)) return
    const held = this.logs.held(hex)
    if (held < length) return
    const ours = this.logs.treeAt(hex, length)
    if (ours !== null && b4a.equals(ours, tree)) return
    this._run(hex, () => this._compare(author, length, tree, remote))
  }

  // The signed tree this peer holds of a log (the tree method)
  async tree(author) {
    const hex = b4a.toString(author, 'hex')
    let tree = null
    if (hex === this.id) tree = signedTree(this.log.core)
    else if (this.logs.held(hex) > 0) tree = await this.logs.withCore(author, signedTree)
    if (tree === null) throw AuctionError.LOG_NOT_HELD()
    return tree
  }

  // The proof this peer holds that an author signed two histories (the dispute method)
  async proof(author) {
    const row = await this.view.getDispute(b4a.toString(author, 'hex'))
    if (row === null || row.own === null || row.own.length !== row.length) {
      throw AuctionError.LOG_NOT_HELD('No proof of two histories of this log is held here')
    }
    return { a: row, b: row.own }
  }

  _run(hex, check) {
    if (this._checking.has(hex) || this._checking.size >= MAX_CHECKS) return
    this._checking.add(hex)
    check()
      .catch((err) => {
        // A forged tree or proof is worth a warning; a peer gone meanwhile is not
        if (err.code === 'BAD_REQUEST') this.emitter.emit('warning', err)
        else safetyCatch(err)
      })
      .finally(() => this._checking.delete(hex))
  }

  // The remote holds another tree at a length this peer holds: its signed tree is asked for
  async _compare(author, length, tree, remote) {
    const hex = b4a.toString(author, 'hex')
    const ours = await this.logs.withCore(author, async (core) => {
      if (core.length < length) return null
      const at = await core.treeHash(length)
      return b4a.equals(at, tree) ? null : { signed: signedTree(core) }
    })
    if (ours === null || ours.signed === null) return
    const res = await this.net.request(remote, METHODS.tree, m.encode(m.treeRequest, { author }))
    const theirs = m.decode(m.signedTree, res, 'signed tree')
    const forged = !signedBy(author, theirs)
    if (forged) throw AuctionError.BAD_REQUEST('The tree is not signed by its author')
    const own = ours.signed
    if (theirs.length > own.length) return
    const differ = await this.logs.withCore(author, async (core) => {
      const at = theirs.length === own.length ? own.treeHash : await core.treeHash(theirs.length)
      return !b4a.equals(at, theirs.treeHash)
    })
    if (!differ) return
    await this._dispute(hex, theirs, own)
  }

  // The remote says the author is disputed: its proof is checked here before it counts
  async _fetchProof(author, remote) {
    const req = m.encode(m.treeRequest, { author })
    const res = await this.net.request(remote, METHODS.dispute, req)
    const { a, b } = m.decode(m.disputeProof, res, 'dispute proof')
    const proves =
      a.length === b.length &&
      !b4a.equals(a.treeHash, b.treeHash) &&
      signedBy(author, a) &&
      signedBy(author, b)
    if (!proves) throw AuctionError.BAD_REQUEST('Not a proof of two signed histories')
    await this._dispute(b4a.toString(author, 'hex'), a, b)
  }

  async _dispute(hex, other, own) {
    const { length, fork, signature, treeHash } = other
    const row = { length, fork, signature, treeHash, detectedAt: Date.now(), own }
    if (await this.logs.dispute(hex, row)) this.ondispute(hex)
  }
}

function signedBy(author, tree) {
  return tree.signature.byteLength <= MAX_SIGNATURE && verifyTree(author, tree)
}

module.exports = Forks
