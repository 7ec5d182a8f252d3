/**
 * An upload is validated whole before anything is recorded (issue 10, point 7): a refused request leaves
 * no document row and no stored bytes, so the page's "nothing was changed" is true.
 */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { PDF_BYTES, testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity } from '../helpers/entities.js'
import { aCompany, aUser, PASSWORD } from '../helpers/factories.js'

function storedFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((sub) => {
    const p = path.join(dir, sub)
    return statSync(p).isDirectory() ? readdirSync(p) : [sub]
  })
}

/** A multipart body with the CSRF field first and then these file parts (names sent as given, raw bytes). */
function filesBody(csrf: string, files: { filename: string; content: Buffer }[]) {
  const boundary = '----kycUploadTest'
  const chunks: Buffer[] = [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`),
  ]
  for (const file of files) {
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="`),
      Buffer.from(file.filename, 'utf8'),
      Buffer.from('"\r\nContent-Type: application/pdf\r\n\r\n'),
      file.content,
      Buffer.from('\r\n'),
    )
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

t.test('a refused upload stores nothing, and says so truthfully', async (t) => {
  const { app, db, storageDir } = await testApp(t)
  const company = await aCompany(db)
  const clerk = await aUser(db, { company, permissions: ['upload_entity_documents'] })
  const client = await anEntity(db, { company, owner: clerk })
  const v = new Visitor(app)
  await v.login(clerk.email, PASSWORD)
  const send = async (files: { filename: string; content: Buffer }[]) => {
    await v.get(`/entities/${client.id}`)
    return v.request({ method: 'POST', url: `/entities/${client.id}/documents`, ...filesBody(v.csrfToken, files) })
  }

  const nul = await send([{ filename: 'pass\u0000port.pdf', content: PDF_BYTES }])
  t.equal(nul.statusCode, 422, 'a file name with a NUL is refused')
  t.match(visibleText(nul.body), 'The file name contains characters that are not allowed')
  t.equal((await db('documents')).length, 0)
  t.same(storedFiles(storageDir), [], 'no bytes were kept')

  // "invoice\u202Efdp.exe" shows as "invoiceexe.pdf": a text-direction override in a file name is refused.
  const reversed = await send([{ filename: 'invoice\u202Efdp.exe', content: PDF_BYTES }])
  t.equal(reversed.statusCode, 422, 'a file name with a right-to-left override is refused')
  t.match(visibleText(reversed.body), 'The file name contains characters that are not allowed')
  t.equal((await db('documents')).length, 0)

  const two = await send([
    { filename: 'first.pdf', content: PDF_BYTES },
    { filename: 'second.pdf', content: PDF_BYTES },
  ])
  t.equal(two.statusCode, 422, 'two files in one form are refused')
  t.match(visibleText(two.body), 'Upload one file at a time')
  t.equal((await db('documents')).length, 0, 'not even the first one is recorded')
  t.same(storedFiles(storageDir), [], 'and its bytes are gone')
  t.equal((await db('audit_log').where({ action: 'entity.document_uploaded' })).length, 0)

  const ok = await send([{ filename: 'passport.pdf', content: PDF_BYTES }])
  t.equal(ok.statusCode, 303, 'one well-named file is taken')
  t.equal((await db('documents')).length, 1)
  t.equal(storedFiles(storageDir).length, 1)
})
