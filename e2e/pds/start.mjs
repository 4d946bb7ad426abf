// Starts an in-memory PLC directory and the official PDS, both listening on
// 127.0.0.1 only, for atlex's end-to-end tests.
//
//   node start.mjs --data-dir DIR [--plc-port N] [--pds-port N] [--remove-data-dir]
//
// Ports come from the arguments or from E2E_PLC_PORT / E2E_PDS_PORT; 0 (the
// default) takes a free port. When both answer, one JSON line goes to
// stdout: {"plc": "http://localhost:P", "pds": "http://localhost:Q",
// "pdsPort": Q, "plcPort": P, "adminPassword": "..."}. Everything else goes
// to stderr. The process stops when its stdin closes (the test that started
// it ended, however it ended) or on SIGTERM / SIGINT; with --remove-data-dir
// it then removes the data directory. E2E_LOOPBACK_HOSTS names hosts the
// servers resolve to 127.0.0.1.

import { generateKeyPairSync, randomBytes } from 'node:crypto'
import dns from 'node:dns'
import { mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'
import { Database as PlcDatabase, PlcServer } from '@did-plc/server'

const HOST = '127.0.0.1'

// Host names (comma-separated in E2E_LOOPBACK_HOSTS) that resolve to
// 127.0.0.1 for the servers' own requests: a test serves an app's client
// metadata under such a name, since the authorization server refuses
// `localhost` and IP addresses in client ids.
const loopbackHosts = new Set(
  (process.env.E2E_LOOPBACK_HOSTS ?? '').split(',').filter((name) => name !== ''),
)
if (loopbackHosts.size > 0) {
  const lookup = dns.lookup
  dns.lookup = function (hostname, options, callback) {
    if (!loopbackHosts.has(hostname)) return lookup.apply(this, arguments)
    const done = typeof options === 'function' ? options : callback
    const all = typeof options === 'object' && options?.all
    if (all) done(null, [{ address: HOST, family: 4 }])
    else done(null, HOST, 4)
  }
}

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'plc-port': { type: 'string' },
    'pds-port': { type: 'string' },
    'remove-data-dir': { type: 'boolean' },
  },
})

const port = (text, name) => {
  const value = Number(text ?? '0')
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${name}: not a port: ${text}`)
  }
  return value
}

// A port nothing listens on now. The PDS must know its port before it is
// created (its public URL holds it), so a free one is found first.
const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })

const listen = (app, port) =>
  new Promise((resolve, reject) => {
    const server = app.listen(port, HOST)
    server.once('error', reject)
    server.once('listening', () => resolve(server))
  })

const close = (server) =>
  new Promise((resolve) => {
    if (!server) return resolve()
    server.close(() => resolve())
    server.closeAllConnections()
  })

// The PDS's PLC rotation key: a fresh secp256k1 private key, as hex.
const k256PrivateKeyHex = () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  return Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url').toString('hex')
}

const dataDir = values['data-dir'] ?? process.env.E2E_DATA_DIR
const running = { plc: null, plcServer: null, pds: null, pdsServer: null }
let stopping = null

const stop = (code) => {
  stopping ??= (async () => {
    await close(running.pdsServer)
    await running.pds?.ctx.destroy().catch((err) => console.error('pds:', err))
    await close(running.plcServer)
    await running.plc?.ctx.db.close().catch((err) => console.error('plc:', err))
    if (values['remove-data-dir'] && dataDir) {
      rmSync(dataDir, { recursive: true, force: true })
    }
    process.exit(code)
  })()
  return stopping
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.stdin.on('end', () => stop(0))
process.stdin.on('close', () => stop(0))
process.stdin.resume()

try {
  if (!dataDir) throw new Error('--data-dir (or E2E_DATA_DIR) is required')
  const blobs = join(dataDir, 'blobs')
  mkdirSync(blobs, { recursive: true })

  running.plc = PlcServer.create({ db: PlcDatabase.mock() })
  running.plcServer = await listen(
    running.plc.app,
    port(values['plc-port'] ?? process.env.E2E_PLC_PORT, 'plc port'),
  )
  const plcPort = running.plcServer.address().port

  let pdsPort = port(values['pds-port'] ?? process.env.E2E_PDS_PORT, 'pds port')
  if (pdsPort === 0) pdsPort = await freePort()

  const adminPassword = randomBytes(16).toString('hex')
  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(pdsPort),
    PDS_DEV_MODE: 'true',
    PDS_INVITE_REQUIRED: 'false',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: blobs,
    PDS_JWT_SECRET: randomBytes(32).toString('hex'),
    PDS_DPOP_SECRET: randomBytes(32).toString('hex'),
    PDS_ADMIN_PASSWORD: adminPassword,
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: k256PrivateKeyHex(),
    // The PDS's fetch refuses IP addresses as hosts: the PLC is reached by name.
    PDS_DID_PLC_URL: `http://localhost:${plcPort}`,
  })
  const env = readEnv()
  running.pds = await PDS.create(envToCfg(env), envToSecrets(env))
  // What `PDS.start` does, listening on loopback only.
  await running.pds.ctx.sequencer.start()
  running.pdsServer = await listen(running.pds.app, pdsPort)
  running.pdsServer.keepAliveTimeout = 90_000

  process.stdout.write(
    JSON.stringify({
      plc: `http://localhost:${plcPort}`,
      pds: `http://localhost:${pdsPort}`,
      plcPort,
      pdsPort,
      adminPassword,
    }) + '\n',
  )
} catch (err) {
  console.error('start.mjs:', err)
  await stop(1)
}
