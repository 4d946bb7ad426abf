// Signs labels as the reference labeler does (the DAG-CBOR of the label
// without `sig`, signed with the labeler's key by @atproto/crypto) and writes
// them to ts-signed.json, which runtime/tests/label_interop.rs checks: atlex
// must verify each, compute the same signed bytes, and, as both sides sign
// deterministically (RFC 6979), make the same signature.
//
//   cd runtime/tests/interop/labels && npm install && node sign.mjs
//
// The keys are the fixed test keys of ../service-auth/mint.mjs.
import { writeFileSync } from 'node:fs'
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import { encode } from '@atproto/lex-cbor'

const LABELER = 'did:plc:ar7c4by46qjdydhdevvrndac'
const keys = [
  ['K256', await Secp256k1Keypair.import('9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c')],
  ['P256', await P256Keypair.import('82ebbd63ebbd9ff60141a69bd4c9be282f2415e8eafa9d42c0ed396daccca979')],
]
const labels = [
  { ver: 1, src: LABELER, uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26', val: 'spam', cts: '2026-12-07T10:00:00.000Z' },
  { ver: 1, src: LABELER, uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26', cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a', val: 'spam', neg: true, cts: '2026-12-07T11:00:00.000Z' },
  { ver: 1, src: LABELER, uri: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', val: '!hide', cts: '2026-12-07T10:00:00.000Z', exp: '2027-01-07T10:00:00.000Z' },
  { ver: 1, src: LABELER, uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.actor.profile/self', val: 'porn', neg: false, cts: '2026-12-07T10:00:00.000Z' },
]

const hex = (bytes) => Buffer.from(bytes).toString('hex')
const cases = []
for (const [curve, keypair] of keys) {
  for (const label of labels) {
    // The CID of `cid` is a string in the label, as the lexicon says.
    const bytes = encode(label)
    const sig = await keypair.sign(bytes)
    cases.push({ curve, didKey: keypair.did(), label, signedBytes: hex(bytes), sig: hex(sig) })
  }
}
writeFileSync('ts-signed.json', JSON.stringify(cases, null, 2) + '\n')
console.log(`wrote ${cases.length} labels to ts-signed.json`)
