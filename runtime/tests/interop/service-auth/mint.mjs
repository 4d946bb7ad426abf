// Mints service-auth JWTs with the reference implementation
// (@atproto/xrpc-server createServiceJwt) and writes them to ts-minted.json,
// which runtime/tests/service_auth_interop.rs verifies with atlex.
//
//   cd runtime/tests/interop/service-auth && npm install && node mint.mjs
//
// The keys are fixed test keys (the first key of the interop vectors'
// w3c_didkey_K256.json, and the key of w3c_didkey_P256.json); iat and exp are
// fixed too, so only the random jti (and so the signature) changes from one
// run to the next.
import { writeFileSync } from 'node:fs'
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import { createServiceJwt } from '@atproto/xrpc-server'

const ISSUER = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const AUDIENCE = 'did:web:chat.example.com#bsky_chat'
const LXM = 'chat.bsky.convo.listConvos'
const IAT = 1700000000
const EXP = 4102444800 // 2100-01-01

const keys = [
  ['ES256K', await Secp256k1Keypair.import('9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c')],
  ['ES256', await P256Keypair.import('82ebbd63ebbd9ff60141a69bd4c9be282f2415e8eafa9d42c0ed396daccca979')],
]

const cases = []
for (const [alg, keypair] of keys) {
  for (const lxm of [LXM, null]) {
    const jwt = await createServiceJwt({ iss: ISSUER, aud: AUDIENCE, iat: IAT, exp: EXP, lxm, keypair })
    cases.push({ alg, didKey: keypair.did(), iss: ISSUER, aud: AUDIENCE, lxm, iat: IAT, exp: EXP, jwt })
  }
}
writeFileSync('ts-minted.json', JSON.stringify(cases, null, 2) + '\n')
console.log(`wrote ${cases.length} tokens to ts-minted.json`)
