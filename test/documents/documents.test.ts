import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import { FileSystemStorage } from '../../src/storage/document-storage.js'
import { multipartBody, PDF_BYTES, testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'

function storedFiles(dir: string): string[] {
  const files: string[] = []
  for (const sub of readdirSync(dir)) {
    const p = path.join(dir, sub)
    if (statSync(p).isDirectory()) files.push(...readdirSync(p).map((f) => path.join(p, f)))
  }
  return files
}

async function setup(t: Test, storage?: FileSystemStorage) {
  const ctx = await testApp(t, {}, undefined, storage)
  const company = await aCompany(ctx.db, 'Alpha Advisers')
  const admin = await aUser(ctx.db, { company, permissions: ['system_administrator'] })
  const clerk = await aUser(ctx.db, {
    company,
    name: 'Cal Clerk',
    permissions: ['upload_entity_documents', 'download_entity_documents'],
  })
  const entity = await anEntity(ctx.db, { company, owner: admin, name: 'Docs Ltd' })
  const v = new Visitor(ctx.app)
  await v.login(clerk.email, PASSWORD)
  await v.get(`/entities/${entity.id}`)
  const upload = (file?: { filename: string; content: Buffer }, csrf: string | null = v.csrfToken) => {
    const fields: [string, string][] = csrf === null ? [] : [['_csrf', csrf]]
    const body = multipartBody(fields, file && { field: 'file', ...file, type: 'application/pdf' })
    return v.request({
      method: 'POST',
      url: `/entities/${entity.id}/documents`,
      payload: body.payload,
      headers: body.headers,
    })
  }
  return { ...ctx, company, admin, clerk, entity, v, upload }
}

t.test('uploading and downloading a document', async (t) => {
  const { db, v, entity, upload, storageDir } = await setup(t)
  const res = await upload({ filename: '../../etc/passport scan.pdf', content: PDF_BYTES })
  t.equal(res.statusCode, 303)
  const doc = await db('documents').where({ entity_id: entity.id }).first()
  t.equal(doc.original_name, 'passport scan.pdf', 'the name is kept but never used as a path')
  t.equal(doc.media_type, 'application/pdf')
  t.equal(Number(doc.size_bytes), PDF_BYTES.length)
  t.match(doc.storage_key, /^[0-9a-f-]{36}$/)
  const files = storedFiles(storageDir)
  t.equal(files.length, 1)
  t.same(readFileSync(files[0] as string), PDF_BYTES)
  t.match(visibleText((await v.get(`/entities/${entity.id}`)).body), 'passport scan.pdf application/pdf')

  const download = await v.get(`/entities/${entity.id}/documents/${doc.id}`)
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], 'application/pdf')
  t.equal(
    download.headers['content-disposition'],
    `attachment; filename="passport scan.pdf"; filename*=UTF-8''passport%20scan.pdf`,
  )
  t.equal(download.headers['x-content-type-options'], 'nosniff')
  t.same(download.rawPayload, PDF_BYTES)
  const inline = await v.get(`/entities/${entity.id}/documents/${doc.id}?inline=1`)
  t.match(String(inline.headers['content-disposition']), /^inline;/)
  const audit = await db('audit_log').where({ action: 'entity.document_uploaded', target_id: entity.id }).first()
  t.equal(audit.after.sha256.length, 64)
})

t.test('refused uploads change nothing: wrong type, renamed executable, too large, empty, no file', async (t) => {
  const { db, entity, upload, storageDir } = await setup(t)
  const elf = readFileSync('/bin/ls').subarray(0, 200_000)
  const exe = await upload({ filename: 'invoice.pdf', content: elf })
  t.equal(exe.statusCode, 422)
  t.match(exe.body, /<a href="#file">This type of file is not accepted\. Upload PDF, PNG/)
  const zipBomb = await upload({ filename: 'x.zip', content: Buffer.from(`PK\u0003\u0004${'a'.repeat(100)}`) })
  t.equal(zipBomb.statusCode, 422)
  const large = await upload({
    filename: 'big.pdf',
    content: Buffer.concat([PDF_BYTES, Buffer.alloc(1024 * 1024 + 10)]),
  })
  t.equal(large.statusCode, 422)
  t.match(visibleText(large.body), 'The file is larger than 1 MB: choose a smaller file')
  const empty = await upload({ filename: 'empty.pdf', content: Buffer.alloc(0) })
  t.equal(empty.statusCode, 422)
  const none = await upload(undefined)
  t.match(visibleText(none.body), 'Choose a file to upload')
  t.equal((await db('documents').where({ entity_id: entity.id })).length, 0, 'no row')
  t.same(storedFiles(storageDir), [], 'no bytes')
})

t.test('an upload without the CSRF token, or without the permission, stores nothing', async (t) => {
  const { app, db, company, entity, upload, storageDir } = await setup(t)
  t.equal((await upload({ filename: 'a.pdf', content: PDF_BYTES }, null)).statusCode, 403)
  t.equal((await upload({ filename: 'a.pdf', content: PDF_BYTES }, 'forged')).statusCode, 403)
  const reader = await aUser(db, { company, permissions: ['read_data'] })
  const r = new Visitor(app)
  await r.login(reader.email, PASSWORD)
  await r.get(`/entities/${entity.id}`)
  const body = multipartBody([['_csrf', r.csrfToken]], { field: 'file', filename: 'a.pdf', content: PDF_BYTES })
  const res = await r.request({
    method: 'POST',
    url: `/entities/${entity.id}/documents`,
    payload: body.payload,
    headers: body.headers,
  })
  t.equal(res.statusCode, 403)
  t.equal((await db('documents')).length, 0)
  t.same(storedFiles(storageDir), [])
})

t.test('a failure half-way leaves no row without bytes and no bytes without a row', async (t) => {
  class BrokenStorage extends FileSystemStorage {
    override async put(source: Readable): Promise<never> {
      source.resume()
      throw new Error('disk full')
    }
  }
  const broken = await setup(t, new BrokenStorage('/tmp/never-written'))
  const res = await broken.upload({ filename: 'a.pdf', content: PDF_BYTES })
  t.equal(res.statusCode, 500)
  t.equal((await broken.db('documents')).length, 0, 'storage failed: no row')

  const ok = await setup(t)
  await ok.db.raw(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'database down'; END $$;
    CREATE TRIGGER refuse BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse();`)
  const failed = await ok.upload({ filename: 'a.pdf', content: PDF_BYTES })
  t.equal(failed.statusCode, 500)
  t.same(storedFiles(ok.storageDir), [], 'database failed: the bytes were removed')
  t.notMatch(failed.body, 'database down')
})

t.test('documents go to the recycle bin and are deleted for good with their bytes', async (t) => {
  const { app, db, company, entity, upload, storageDir, v } = await setup(t)
  await upload({ filename: 'keep.pdf', content: PDF_BYTES })
  const doc = await db('documents').first()
  t.equal(
    (await v.get(`/entities/${entity.id}/documents/${doc.id}/delete`)).statusCode,
    403,
    'needs Permanently Delete Documents',
  )

  const remover = await aUser(db, { company, permissions: ['permanently_delete_documents'] })
  const r = new Visitor(app)
  await r.login(remover.email, PASSWORD)
  t.match(
    visibleText((await r.get(`/entities/${entity.id}/documents/${doc.id}/delete`)).body),
    'Move keep.pdf to the recycle bin?',
  )
  t.equal((await r.post(`/entities/${entity.id}/documents/${doc.id}/delete`, {})).statusCode, 303)
  t.equal((await v.get(`/entities/${entity.id}/documents/${doc.id}`)).statusCode, 404, 'not downloadable from the bin')
  t.match(visibleText((await r.get('/recycle-bin')).body), 'keep.pdf Docs Ltd')
  await r.post(`/recycle-bin/documents/${doc.id}/restore`, {})
  t.equal((await v.get(`/entities/${entity.id}/documents/${doc.id}`)).statusCode, 200, 'restored')

  await r.get(`/entities/${entity.id}/documents/${doc.id}/delete`)
  await r.post(`/entities/${entity.id}/documents/${doc.id}/delete`, {})
  t.match(visibleText((await r.get(`/recycle-bin/documents/${doc.id}/purge`)).body), 'Delete keep.pdf for good?')
  t.equal((await r.post(`/recycle-bin/documents/${doc.id}/purge`, {})).statusCode, 303)
  t.equal((await db('documents')).length, 0)
  t.same(storedFiles(storageDir), [], 'the bytes are gone')
  t.equal((await db('storage_deletions')).length, 0)
})

t.test('an entity deleted for good takes its documents and their bytes with it', async (t) => {
  const { app, db, company, entity, upload, storageDir } = await setup(t)
  await upload({ filename: 'one.pdf', content: PDF_BYTES })
  await upload({ filename: 'two.txt', content: Buffer.from('plain notes, UTF-8: café\n') })
  t.equal((await db('documents')).length, 2)
  t.equal((await db('documents').where({ original_name: 'two.txt' }).first()).media_type, 'text/plain')
  const owner = await aUser(db, { company, permissions: ['permanently_delete_restore_entities'] })
  const o = new Visitor(app)
  await o.login(owner.email, PASSWORD)
  await o.get(`/entities/${entity.id}/delete`)
  await o.post(`/entities/${entity.id}/delete`, {})
  await o.get(`/recycle-bin/entities/${entity.id}/purge`)
  t.match(visibleText(o.lastHtml), 'and its 2 documents')
  await o.post(`/recycle-bin/entities/${entity.id}/purge`, {})
  t.equal((await db('documents')).length, 0)
  t.same(storedFiles(storageDir), [])
  t.ok(
    (await db('audit_log').where({ target_id: entity.id, action: 'entity.document_uploaded' })).length === 2,
    'audit rows stay',
  )
})

t.test('markup is refused, whatever its name; a download is named after what its bytes are', async (t) => {
  const { db, v, entity, upload } = await setup(t)
  const markup = [
    ['page.html', '<!DOCTYPE html><html><body><script>alert(1)</script></body></html>'],
    ['notes.txt', '\uFEFF  \n<html><body onload="alert(1)">hi</body></html>'],
    ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['data.xml', '<?xml version="1.0"?><root/>'],
    ['comment.txt', '<!-- a page --><p>hello</p>'],
  ]
  for (const [filename, content] of markup) {
    const res = await upload({ filename: filename as string, content: Buffer.from(content as string) })
    t.equal(res.statusCode, 422, `${filename}: refused`)
    t.match(visibleText(res.body), 'Web pages, SVG and XML files are not accepted: they can run code when opened.')
  }
  t.equal((await db('documents')).length, 0, 'none stored')

  // Plain text that mentions a tag is text; named .html, it downloads as .html.txt.
  const text = await upload({ filename: 'page.html', content: Buffer.from('Minutes: we discussed the <b> tag.\n') })
  t.equal(text.statusCode, 303)
  const pdfAsPng = await upload({ filename: 'scan.png', content: PDF_BYTES })
  t.equal(pdfAsPng.statusCode, 303)
  const plain = await upload({ filename: 'notes.TXT', content: Buffer.from('Called the client.\n') })
  t.equal(plain.statusCode, 303)
  const docs = await db('documents').orderBy('created_at')
  const names: string[] = []
  for (const doc of docs) {
    const res = await v.get(`/entities/${entity.id}/documents/${doc.id}`)
    names.push(/filename="([^"]+)"/.exec(String(res.headers['content-disposition']))?.[1] as string)
  }
  t.same(names, ['page.html.txt', 'scan.png.pdf', 'notes.TXT'])
})

t.test('the detected type decides: a Word file (zipped XML) is a Word file, not markup', async (t) => {
  const { detectAllowedType } = await import('../../src/documents/file-types.js')
  // The first bytes of a .docx: a zip whose first entry is [Content_Types].xml, then word/ parts.
  const docx = Buffer.concat([
    Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x13, 0x00, 0x00, 0x00]),
    Buffer.from('[Content_Types].xml'),
    Buffer.alloc(64),
    Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x00, 0x00, 0x00]),
    Buffer.from('word/document.xml'),
    Buffer.alloc(64),
  ])
  const type = await detectAllowedType(docx)
  t.not(type, 'markup')
  t.equal(await detectAllowedType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), 'markup')
  t.equal(await detectAllowedType(Buffer.from('Plain words.\n')), 'text/plain')
})
