// Writes ts/lexicons.json and ts/lexicons/ with @atproto/lex's installer
// (`install` of @atproto/lex-installer, what `lex install com.example.post`
// runs), from the documents of documents.json instead of the network: its
// hooks answer the `_lexicon` lookup with one DID and each fetch with the
// schema record of that document (its `$type` com.atproto.lexicon.schema)
// and the CID @atproto/lex-cbor computes for it. The record is given as
// its resolver reads one from a `com.atproto.sync.getRecord` proof: decoded
// from its DAG-CBOR (so in that encoding's key order) and parsed as a
// lexicon document. cli/tests/lex_interop.rs checks that atlex reads what
// it wrote.
//
//   cd cli/tests/lex_interop && npm install && node write.mjs
//
// Node.js 20 or later.
import { readFileSync, rmSync } from 'node:fs'
import { cidForLex, encode } from '@atproto/lex-cbor'
import { lexiconDocumentSchema } from '@atproto/lex-document'
import lexInstaller from '@atproto/lex-installer'
import repo from '@atproto/repo'

// A CommonJS package: its exports come as one object.
const { install } = lexInstaller

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const documents = JSON.parse(readFileSync('documents.json', 'utf8'))
const records = new Map(
  documents.map((doc) => [
    doc.id,
    { $type: 'com.atproto.lexicon.schema', ...doc },
  ]),
)

rmSync('ts', { recursive: true, force: true })
await install({
  add: ['com.example.post'],
  save: true,
  ci: false,
  update: false,
  lexicons: 'ts/lexicons',
  manifest: 'ts/lexicons.json',
  hooks: {
    onResolveAuthority: () => DID,
    onFetch: async ({ uri }) => {
      const record = records.get(uri.rkey)
      if (!record) throw new Error(`no document ${uri.rkey}`)
      const read = repo.cborToLexRecord(encode(record))
      const lexicon = lexiconDocumentSchema.parse(read)
      return { lexicon, cid: await cidForLex(lexicon) }
    },
  },
})
