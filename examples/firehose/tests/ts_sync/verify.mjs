// The official TypeScript verifying consumer reads the firehose example's
// server: @atproto/sync's `Firehose` with commits authenticated (each
// commit's signature against the key of the account's DID document, and
// each op proven in the commit's tree: `verifyProofs` of @atproto/repo),
// keys resolved by @atproto/identity's `IdResolver` from the server's own
// PLC-style `/{did}` endpoint; each `#sync` commit's signature is checked
// with @atproto/repo's `verifyCommitSig`, and revisions must grow.
//
// Then, for each account, what a backfilling consumer reads:
// `com.atproto.sync.getRepo` checked by `verifyRepoCar` (the commit's
// signature, every node and record), the same records as
// `com.atproto.repo.listRecords` pages through, `getLatestCommit` naming the
// CAR's commit, and `com.atproto.sync.getRecord` proofs (`verifyProofs`) of
// a record present and one absent.
//
// Environment: ATLEX_FIREHOSE_URL (http://host:port of a running server),
// ATLEX_EXPECTED_EVENTS (how many events the Firehose should hand over),
// ATLEX_DIDS (the accounts, comma-separated). Prints one JSON line of
// figures, and exits 1 if anything failed.

import { Firehose, FirehoseParseError } from '@atproto/sync'
import { IdResolver } from '@atproto/identity'
import { MemoryBlockstore, def, verifyCommitSig, verifyProofs, verifyRepoCar } from '@atproto/repo'

const url = process.env.ATLEX_FIREHOSE_URL
const expected = Number(process.env.ATLEX_EXPECTED_EVENTS)
const dids = (process.env.ATLEX_DIDS ?? '').split(',').filter(Boolean)
if (!url || !Number.isInteger(expected) || dids.length === 0) {
  console.error('set ATLEX_FIREHOSE_URL, ATLEX_EXPECTED_EVENTS and ATLEX_DIDS')
  process.exit(2)
}

const failures = []
const fail = (what) => failures.push(what)
const describe = (err) => {
  const parts = []
  for (let e = err; e; e = e.cause) parts.push(e.message ?? String(e))
  return parts.join(': ')
}

// The default fetch of @atproto/identity refuses plain HTTP, IP hosts and
// custom ports (protection against requests to private networks); the
// server here is on loopback, so the resolver gets the plain fetch.
const idResolver = new IdResolver({ plcUrl: url, fetch: globalThis.fetch })

// 1. The firehose, from the start.
const counts = { sync: 0, create: 0, update: 0, delete: 0, other: 0 }
const lastRev = new Map()
let events = 0
let unparsed = 0
let syncsSigned = 0
let lastSeq = 0
const started = Date.now()
let allRead
const read = new Promise((resolve) => {
  allRead = resolve
})
// Each event is handed over in order, the next once the handler returns.
const firehose = new Firehose({
  service: url.replace(/^http/, 'ws'),
  idResolver,
  getCursor: () => 0,
  handleEvent: async (evt) => {
    events += 1
    counts[evt.event in counts ? evt.event : 'other'] += 1
    if (evt.seq < lastSeq) fail(`seq ${evt.seq} after ${lastSeq}`)
    lastSeq = evt.seq
    // Revisions grow per repository (one op per commit here).
    const last = lastRev.get(evt.did)
    if (last !== undefined && !(evt.rev > last)) {
      fail(`${evt.did}: rev ${evt.rev} after ${last}`)
    }
    lastRev.set(evt.did, evt.rev)
    // The Firehose checks a `#sync` as a CAR only; its commit is checked
    // here as a commit's would be: the account's, at the event's rev,
    // signed with the account's key.
    if (evt.event === 'sync') {
      try {
        const commit = await new MemoryBlockstore(evt.blocks).readObj(evt.cid, def.commit)
        const key = await idResolver.did.resolveAtprotoKey(evt.did)
        if (commit.did !== evt.did || commit.rev !== evt.rev || !(await verifyCommitSig(commit, key))) {
          fail(`#sync ${evt.seq} of ${evt.did}: not a commit of the account at ${evt.rev} signed with its key`)
        } else {
          syncsSigned += 1
        }
      } catch (err) {
        fail(`#sync ${evt.seq} of ${evt.did}: ${describe(err)}`)
      }
    }
    if (events + unparsed === expected) allRead()
  },
  onError: (err) => {
    fail(describe(err))
    // An event that does not check counts as read (each commit here has
    // one op).
    if (err instanceof FirehoseParseError) unparsed += 1
    if (events + unparsed === expected) allRead()
  },
})
firehose.start()
const timer = setTimeout(() => {
  fail(`timed out after ${events + unparsed} of ${expected} events`)
  allRead()
}, 60_000)
await read
clearTimeout(timer)
await firehose.destroy()
const streamMs = Date.now() - started

// 2. Each account's repository, as a backfill reads it.
const xrpc = async (nsid, params) => {
  const res = await fetch(`${url}/xrpc/${nsid}?${new URLSearchParams(params)}`)
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${await res.text()}`)
  const type = res.headers.get('content-type') ?? ''
  return type.startsWith('application/json')
    ? res.json()
    : new Uint8Array(await res.arrayBuffer())
}
const listAll = async (did, collection) => {
  const records = []
  let cursor
  do {
    const page = await xrpc('com.atproto.repo.listRecords', {
      repo: did,
      collection,
      limit: '7',
      ...(cursor ? { cursor } : {}),
    })
    records.push(...page.records)
    cursor = page.cursor
  } while (cursor)
  return records
}

const repos = {}
for (const did of dids) {
  try {
    const key = await idResolver.did.resolveAtprotoKey(did)
    const car = await xrpc('com.atproto.sync.getRepo', { did })
    const repo = await verifyRepoCar(car, did, key)
    const latest = await xrpc('com.atproto.sync.getLatestCommit', { did })
    if (latest.cid !== repo.commit.cid.toString()) {
      fail(`${did}: getLatestCommit names ${latest.cid}, getRepo's commit is ${repo.commit.cid}`)
    }
    if (latest.rev !== lastRev.get(did)) {
      fail(`${did}: getLatestCommit rev ${latest.rev}, the firehose's last ${lastRev.get(did)}`)
    }
    const collections = [...new Set(repo.creates.map((c) => c.collection))]
    let listed = 0
    for (const collection of collections) {
      const records = await listAll(did, collection)
      listed += records.length
      const inRepo = repo.creates.filter((c) => c.collection === collection)
      for (const create of inRepo) {
        const uri = `at://${did}/${collection}/${create.rkey}`
        const found = records.find((r) => r.uri === uri)
        if (!found || found.cid !== create.cid.toString()) {
          fail(`${uri}: listRecords has ${found?.cid}, getRepo ${create.cid}`)
        }
      }
    }
    if (listed !== repo.creates.length) {
      fail(`${did}: listRecords lists ${listed}, getRepo holds ${repo.creates.length}`)
    }
    // Proofs: a record present, and one absent.
    let proofs = 0
    const claims = repo.creates.slice(0, 3).map((c) => ({
      collection: c.collection,
      rkey: c.rkey,
      cid: c.cid,
    }))
    claims.push({ collection: 'com.example.thing', rkey: 'absent', cid: null })
    for (const claim of claims) {
      const proof = await xrpc('com.atproto.sync.getRecord', {
        did,
        collection: claim.collection,
        rkey: claim.rkey,
      })
      const result = await verifyProofs(proof, [claim], did, key)
      if (result.verified.length === 1) proofs += 1
      else fail(`${did}: getRecord ${claim.collection}/${claim.rkey} does not prove ${claim.cid}`)
    }
    repos[did] = { records: repo.creates.length, listed, proofs, bytes: car.length }
  } catch (err) {
    fail(`${did}: ${describe(err)}`)
  }
}

console.log(JSON.stringify({ events, expected, counts, syncsSigned, streamMs, repos, failures }))
process.exit(failures.length === 0 && events === expected ? 0 : 1)
