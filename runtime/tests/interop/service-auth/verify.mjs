// Verifies the service-auth JWTs atlex minted (atlex-minted.json, written by
// runtime/tests/service_auth_interop.rs) with the reference implementation
// (@atproto/xrpc-server verifyJwt), and checks that a few tampered copies of
// each are refused.
//
//   cd runtime/tests/interop/service-auth && npm install && node verify.mjs
import { readFileSync } from 'node:fs'
import { verifyJwt } from '@atproto/xrpc-server'

const cases = JSON.parse(readFileSync('atlex-minted.json', 'utf8'))
let failures = 0
const fail = (message) => {
  failures += 1
  console.log(`FAIL ${message}`)
}
for (const c of cases) {
  const getSigningKey = async (iss) => {
    if (iss !== c.iss) throw new Error(`unexpected issuer ${iss}`)
    return c.didKey
  }
  try {
    const payload = await verifyJwt(c.jwt, c.aud, c.lxm, getSigningKey)
    if (payload.iss !== c.iss || payload.lxm !== (c.lxm ?? undefined)) fail(`${c.alg}: claims ${JSON.stringify(payload)}`)
    else console.log(`ok   ${c.alg} lxm=${c.lxm}`)
  } catch (err) {
    fail(`${c.alg} lxm=${c.lxm}: ${err.name} ${err.message}`)
  }
  // Refused: another audience, another method, a flipped signature byte.
  const [h, p, s] = c.jwt.split('.')
  const sig = Buffer.from(s, 'base64url')
  sig[10] ^= 1
  const tampered = [
    ['audience', c.jwt, 'did:web:other.example.com', c.lxm],
    ['method', c.jwt, c.aud, 'com.example.other'],
    ['signature', `${h}.${p}.${sig.toString('base64url')}`, c.aud, c.lxm],
  ]
  for (const [what, jwt, aud, lxm] of tampered) {
    try {
      await verifyJwt(jwt, aud, lxm, getSigningKey)
      fail(`${c.alg}: a token with the wrong ${what} was accepted`)
    } catch (err) {
      console.log(`ok   ${c.alg} wrong ${what}: ${err.error ?? err.name}`)
    }
  }
}
console.log(failures === 0 ? `${cases.length} tokens verified` : `${failures} failures`)
process.exit(failures === 0 ? 0 : 1)
