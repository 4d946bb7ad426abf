// Writes scopes.json: what the reference implementation of atproto OAuth
// scopes (@atproto/oauth-scopes, the version @atproto/pds 0.5.35 uses) says
// of a corpus of scope strings, of permission checks against granted
// scopes, and of every upstream permission set's expansion.
// runtime/oauth/tests/interop.rs checks that atlex-oauth says the same.
//
//   cd runtime/oauth/tests/interop && npm install && node scopes.mjs LEXICONS_DIR
//
// with Node.js 22 (e2e/pds/install.sh puts one in e2e/pds/.node) and
// LEXICONS_DIR the upstream lexicons in NSID layout.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import {
  IncludeScope,
  ScopePermissionsTransition,
  isAtprotoOauthScope,
  normalizeAtprotoOauthScope,
  normalizeAtprotoOauthScopeValue,
} from '@atproto/oauth-scopes'

const lexiconsDir = process.argv[2]
if (!lexiconsDir) throw new Error('usage: node scopes.mjs LEXICONS_DIR')

// What the reference says of a call: its value, or that it threw.
const outcome = (f) => {
  try {
    const value = f()
    return value === undefined ? null : value
  } catch (err) {
    return { threw: String(err.name) }
  }
}

const AUD = 'did:web:api.bsky.app#bsky_appview'
const AUD_ENC = 'did:web:api.bsky.app%23bsky_appview'
const corpus = new Set([
  // Fixed values.
  'atproto', 'transition:generic', 'transition:email', 'transition:chat.bsky',
  'transition:other', 'atproto:x', 'atproto?x=1', 'ATPROTO', '',
  // The examples of the permission specification.
  'identity:*', 'identity:*?', `rpc?lxm=*&aud=${AUD_ENC}`, 'blob?accept=video/*&accept=text/html',
  'repo:app.example.profile?action=create&action=update&action=delete',
  `include:app.example.authFull?aud=did:web:api.example.com%23svc_chat`,
  'resource', 'resource:positional?key=val', 'resource:positional&thing?key=val',
  'service:did:web:com.example#type?key=val', 'resource:', 'resource:?', 'resource:&', 'resource?',
  'resource:positional?key=québec', 'emoji:☺️',
  'repo:app.example.profile', 'repo?collection=app.example.profile&collection=app.example.post',
  'repo:*', 'repo:*?action=delete', 'rpc:app.example.moderation.createReport?aud=*',
  'blob:*/*', 'account:email', 'account:repo?action=manage', 'identity:handle',
  // Edges of the string form.
  'repo', 'repo:', 'repo?', 'repo:?', 'repository:app.bsky.feed.post', 'repo;app.bsky.feed.post',
  'repo:app.bsky.feed.post?', 'repo:app.bsky.feed.post??action=create', 'repo??collection=app.bsky.feed.post',
  'repo:app.bsky.feed.post?action=create&', 'repo:app.bsky.feed.post?&action=create',
  'repo:app.bsky.feed.post?action', 'repo:app.bsky.feed.post?action=', 'repo:app.bsky.feed.post?=create',
  'repo:app%2Ebsky%2Efeed%2Epost', 'repo:app.bsky.feed.post%3F', 'repo:%zz', 'repo:%e9', 'repo:%C3%A9',
  'repo:app.bsky.feed.post?action=cre%61te', 'repo:app.bsky.feed.post?action=%zz',
  'repo:app.bsky.feed.post?action=create+', 'repo?collection=app.bsky.feed.post&collection=*',
  'repo?collection=*&collection=*', 'repo:app.bsky.feed.post?collection=app.bsky.feed.like',
  'repo:app.bsky.feed.post?action=create&action=create', 'repo:app.bsky.feed.post?action=delete&action=create',
  'repo:app.bsky.feed.post?action=update&action=delete&action=create', 'repo:app.bsky.feed.post?action=read',
  'repo:app.bsky.feed.post?Action=create', 'repo:app.bsky.feed.post?foo=bar', 'repo:App.Bsky.Feed.Post',
  'repo:app.bsky.feed.*', 'repo:app.bsky', 'repo:app.bsky.feed.post.', 'repo:-app.bsky.post', 'repo: app.bsky.feed.post',
  'repo?collection=app.bsky.feed.like&collection=app.bsky.feed.like&collection=app.bsky.feed.post',
  'repo?collection=app.bsky.feed.post', 'repo?collection=app.bsky.feed.post&action=create',
  'repo:app.bsky.feed.post:extra', 'repo:app.bsky.feed.post#frag',
  // rpc.
  `rpc:app.bsky.feed.getFeed?aud=${AUD_ENC}`, `rpc:app.bsky.feed.getFeed?aud=${AUD}`,
  'rpc:app.bsky.feed.getFeed', 'rpc:app.bsky.feed.getFeed?aud=*', 'rpc:*?aud=*', 'rpc?lxm=*&aud=*',
  `rpc:*?aud=${AUD_ENC}`, `rpc?lxm=app.bsky.feed.getFeed&lxm=app.bsky.actor.getProfile&aud=${AUD_ENC}`,
  `rpc?lxm=app.bsky.feed.getFeed&lxm=*&aud=${AUD_ENC}`, `rpc?lxm=app.bsky.feed.getFeed&lxm=app.bsky.feed.getFeed&aud=*`,
  `rpc:app.bsky.feed.getFeed?aud=${AUD_ENC}&aud=*`, 'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app',
  'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23', 'rpc:app.bsky.feed.getFeed?aud=did:plc:ewvi7nxzyoun6zhxrhs64oiz%23atproto_labeler',
  'rpc:app.bsky.feed.getFeed?aud=did:plc:ewvi7nxzyoun6zhxrhs64oi%23svc', 'rpc:app.bsky.feed.getFeed?aud=did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF%23svc',
  'rpc:app.bsky.feed.getFeed?aud=did:web:localhost%253A2583%23svc', 'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%253A8080%23svc',
  'rpc:app.bsky.feed.getFeed?aud=did:web:example.com:path%23svc', 'rpc:app.bsky.feed.getFeed?aud=did:web:exa%2520mple.com%23svc',
  'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%23svc%23x', 'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%23s%20v',
  'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%23s%2520v', 'rpc:app.bsky.feed.getFeed?aud=did:web:EXAMPLE.com%23svc',
  'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%23svc&lxm=app.bsky.feed.getFeed',
  'rpc:chat.bsky.convo.sendMessage?aud=did:web:api.bsky.chat%23bsky_chat', 'rpc?aud=*',
  'rpc:app.bsky.feed.getFeed?aud=did:web:xn--bcher-kva.example%23svc', 'rpc:app.bsky.feed.getFeed?aud=did:web:b%C3%BCcher.example%23svc',
  'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%2Fpath%23svc', 'rpc:app.bsky.feed.getFeed?aud=did:web:%23svc',
  'rpc:app.bsky.feed.getFeed?aud=did:web:example%2Ecom%23svc', 'rpc:app.bsky.feed.getFeed?aud=did:web:example%252ecom%23svc',
  // blob.
  'blob:image/*', 'blob:image/png', 'blob:IMAGE/PNG', 'blob?accept=image/png&accept=image/*', 'blob?accept=image/*&accept=*/*',
  'blob?accept=video/mp4&accept=image/png&accept=image/jpeg', 'blob?accept=Image/PNG&accept=image/*', 'blob:*/png', 'blob:image',
  'blob:image/', 'blob:/png', 'blob:image/png/x', 'blob:image/p ng', 'blob:image/p+ng', 'blob?accept=image/p+ng', 'blob:*',
  'blob:text/*;charset=utf-8', 'blob:application/vnd.api+json', 'blob?accept=application/vnd.api%2Bjson', 'blob', 'blob?accept=',
  'blob:image%2F*', 'blob:a*/*', 'blob?accept=text/html&accept=text/html',
  // account.
  'account:email?action=read', 'account:email?action=manage', 'account:email?action=read&action=manage',
  'account:email?action=manage&action=read', 'account:status', 'account:status?action=manage', 'account:*',
  'account:handle', 'account?attr=email', 'account?attr=email&attr=repo', 'account:email?attr=email',
  'account:email?action=write', 'account:repo', 'account:email?action=read&action=read', 'account',
  // identity.
  'identity:handle?', 'identity:*?attr=*', 'identity?attr=handle', 'identity:did', 'identity', 'identity:handle?action=manage',
  'identity:%2A', 'identity:Handle',
  // include.
  'include:app.bsky.authFullApp', `include:app.bsky.authFullApp?aud=${AUD_ENC}`, 'include:app.bsky.authFullApp?aud=*',
  'include:app.bsky', 'include:*', `include?nsid=app.bsky.authFullApp&aud=${AUD_ENC}`, 'include?nsid=app.bsky.authFullApp&nsid=app.bsky.x',
  'include:app.bsky.authFullApp?aud=did:web:api.bsky.app', 'include:app.bsky.authFullApp?foo=1', 'include',
])

// More by combination: each collection / method form with each action / audience form.
const nsids = ['app.bsky.feed.post', 'com.example.record', 'chat.bsky.convo.sendMessage', '*', 'not-an-nsid', 'a.b']
for (const n of nsids) {
  for (const q of ['', '?action=create', '?action=update&action=create', '?action=bogus']) corpus.add(`repo:${n}${q}`)
  for (const q of ['', '?aud=*', `?aud=${AUD_ENC}`, '?aud=did:web:localhost%23svc']) corpus.add(`rpc:${n}${q}`)
  corpus.add(`include:${n}`)
}
for (const a of ['image/*', 'video/mp4', '*/*', 'text/plain', 'bogus']) {
  corpus.add(`blob:${a}`)
  corpus.add(`blob?accept=${a}&accept=image/png`)
}

const strings = [...corpus].map((scope) => ({
  scope,
  valid: outcome(() => isAtprotoOauthScope(scope)),
  normalized: outcome(() => normalizeAtprotoOauthScopeValue(scope)),
}))

// Whole scope strings, normalized.
const wholes = [
  'atproto transition:generic',
  'transition:generic atproto  repo?action=create&collection=app.bsky.feed.post bogus',
  `rpc?aud=${AUD_ENC}&lxm=app.bsky.feed.getFeed atproto blob:IMAGE/PNG repo:app.bsky.feed.post`,
  '',
  'atproto atproto',
].map((scope) => ({ scope, normalized: outcome(() => normalizeAtprotoOauthScope(scope)) }))

// Permission checks: each granted scope string against each access.
const granted = [
  'atproto',
  'atproto transition:generic',
  'atproto transition:chat.bsky',
  'atproto transition:email',
  'atproto transition:generic transition:chat.bsky transition:email',
  'atproto repo:app.bsky.feed.post',
  'atproto repo:app.bsky.feed.post?action=create',
  'atproto repo:*?action=delete',
  'atproto repo?collection=app.bsky.feed.post&collection=app.bsky.feed.like&action=update',
  `atproto rpc:app.bsky.feed.getFeed?aud=${AUD_ENC}`,
  'atproto rpc:app.bsky.feed.getFeed?aud=*',
  `atproto rpc:*?aud=${AUD_ENC}`,
  'atproto blob:image/* blob:video/mp4',
  'atproto blob:*/*',
  'atproto blob:Image/PNG',
  'atproto account:email',
  'atproto account:email?action=manage',
  'atproto account:repo?action=manage account:status',
  'atproto identity:handle',
  'atproto identity:*',
  'repo:app.bsky.feed.post?action=bogus repo:not-an-nsid',
]
const accesses = [
  { kind: 'repo', collection: 'app.bsky.feed.post', action: 'create' },
  { kind: 'repo', collection: 'app.bsky.feed.post', action: 'update' },
  { kind: 'repo', collection: 'app.bsky.feed.post', action: 'delete' },
  { kind: 'repo', collection: 'app.bsky.feed.like', action: 'update' },
  { kind: 'repo', collection: 'chat.bsky.actor.declaration', action: 'create' },
  { kind: 'rpc', lxm: 'app.bsky.feed.getFeed', aud: AUD },
  { kind: 'rpc', lxm: 'app.bsky.feed.getFeed', aud: 'did:web:other.example#svc' },
  { kind: 'rpc', lxm: 'app.bsky.actor.getProfile', aud: AUD },
  { kind: 'rpc', lxm: 'chat.bsky.convo.sendMessage', aud: 'did:web:api.bsky.chat#bsky_chat' },
  { kind: 'rpc', lxm: '*', aud: AUD },
  { kind: 'blob', mime: 'image/png' },
  { kind: 'blob', mime: 'video/mp4' },
  { kind: 'blob', mime: 'video/webm' },
  { kind: 'blob', mime: 'Image/PNG' },
  { kind: 'blob', mime: 'image/*' },
  { kind: 'blob', mime: 'bogus' },
  { kind: 'account', attr: 'email', action: 'read' },
  { kind: 'account', attr: 'email', action: 'manage' },
  { kind: 'account', attr: 'repo', action: 'manage' },
  { kind: 'account', attr: 'status', action: 'read' },
  { kind: 'identity', attr: 'handle' },
  { kind: 'identity', attr: '*' },
]
const methods = { repo: 'Repo', rpc: 'Rpc', blob: 'Blob', account: 'Account', identity: 'Identity' }
const checks = []
for (const scope of granted) {
  const permissions = new ScopePermissionsTransition(scope)
  for (const { kind, ...options } of accesses) {
    const allows = permissions[`allows${methods[kind]}`](options)
    let needs = null
    try {
      permissions[`assert${methods[kind]}`](options)
    } catch (err) {
      needs = err.scope
    }
    checks.push({ scope, access: { kind, ...options }, allows, needs })
  }
}

// Every upstream permission set, expanded with and without an audience; and
// sets written to reach the rules' edges.
const sets = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.json')) {
      const doc = JSON.parse(readFileSync(path, 'utf8'))
      if (doc?.defs?.main?.type === 'permission-set') sets.push({ file: relative(lexiconsDir, path), doc })
    }
  }
}
walk(lexiconsDir)
const synthetic = {
  lexicon: 1,
  id: 'com.example.authEdges',
  defs: {
    main: {
      type: 'permission-set',
      permissions: [
        { type: 'permission', resource: 'repo', collection: ['com.example.post', 'com.example.sub.like'] },
        { type: 'permission', resource: 'repo', collection: ['com.other.post'] },
        { type: 'permission', resource: 'repo', collection: ['com.example'] },
        { type: 'permission', resource: 'repo', collection: ['*'] },
        { type: 'permission', resource: 'repo', collection: 'com.example.post' },
        { type: 'permission', resource: 'repo', collection: [] },
        { type: 'permission', resource: 'repo', collection: ['com.example.post'], action: ['delete', 'create'] },
        { type: 'permission', resource: 'repo', collection: ['com.example.post'], action: 'delete' },
        { type: 'permission', resource: 'repo', collection: ['com.example.post'], extra: true },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getFeed'], inheritAud: true },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getFeed'], inheritAud: false },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getThing'], aud: '*' },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getThing'], aud: 'did:web:a.example#svc' },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getThing'], aud: null },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getThing'], inheritAud: true, aud: '*' },
        { type: 'permission', resource: 'rpc', lxm: ['com.example.getThing'] },
        { type: 'permission', resource: 'rpc', lxm: ['*'], aud: '*' },
        { type: 'permission', resource: 'blob', accept: ['*/*'] },
        { type: 'permission', resource: 'account', attr: 'email' },
        { type: 'permission', resource: 'identity', attr: 'handle' },
        { type: 'permission', resource: 'future', thing: ['x'] },
        { type: 'permission', collection: ['com.example.post'] },
      ],
    },
  },
}
sets.push({ file: '(synthetic) com.example.authEdges', doc: synthetic })
const expansions = []
for (const { file, doc } of sets) {
  for (const include of [`include:${doc.id}`, `include:${doc.id}?aud=${AUD_ENC}`]) {
    const parsed = IncludeScope.fromString(include)
    expansions.push({ file, include, lexicon: doc, scopes: parsed.toScopes(doc.defs.main) })
  }
}

const out = { generator: '@atproto/oauth-scopes 0.5.12', strings, wholes, checks, expansions }
writeFileSync(new URL('./scopes.json', import.meta.url), JSON.stringify(out, null, 1) + '\n')
console.log(`${strings.length} scope strings, ${wholes.length} whole scopes, ${checks.length} checks, ${expansions.length} expansions (${sets.length} sets)`)
