import { Readable } from 'node:stream'
import type { Db } from '../db/knex.js'
import { storeUpload } from '../documents/service.js'
import { actorOfUser } from '../http/actor.js'
import { csrfTokens } from '../plugins/app/csrf.js'
import { approveSubmission } from '../portal/decisions.js'
import { addUpload, openLink, saveAnswers, submitRequest } from '../portal/filling.js'
import { questionsOnPage } from '../portal/questionnaire.js'
import { questionnaireOfRequest, sendRequest } from '../portal/requests.js'
import { savePortalSettings } from '../portal/settings.js'
import type { DocumentStorage } from '../storage/document-storage.js'

/** A one-page PDF, as a client's phone might upload. */
const DEMO_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
)

/**
 * The demo company's self-service portal, through the same services as the app: its settings, and three
 * organisation clients' requests — one just sent, one submitted and awaiting approval (with its certificate
 * uploaded), one approved. The links are in Settings → Outgoing email (no mail is sent without SMTP_URL).
 */
export async function seedDemoPortal(
  db: Db,
  storage: DocumentStorage,
  companyId: string,
  users: { admin: string; compliance: string },
  publicUrl: string,
): Promise<void> {
  const admin = await actorOfUser(db, users.admin, publicUrl)
  const compliance = await actorOfUser(db, users.compliance, publicUrl)
  await savePortalSettings(db, admin, {
    intro:
      'Thank you for choosing Demo Accounting LLP. The law requires us to know who our clients are: please answer the questions below and upload the documents we ask for. It takes about ten minutes.',
    contact: 'Client onboarding team — onboarding@demo-accounting.example, +44 20 7946 0018 (weekdays 9:00–17:00)',
    linkValidDays: 14,
  })
  const clients = await db('entities')
    .where({ company_id: companyId, kind: 'organisation' })
    .whereNull('deleted_at')
    .orderBy('name')
    .limit(3)
    .select('id', 'name', 'kind', 'registration_number', 'country_of_incorporation', 'legal_form')
  const [sent, submitted, approved] = clients
  if (!sent || !submitted || !approved) return
  const mailbox = (name: string) =>
    `finance@${name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')}.example`
  await sendRequest(db, compliance, sent, {
    email: mailbox(sent.name),
    message: 'Our annual review: please confirm your details.',
  })

  for (const client of [submitted, approved]) {
    const email = mailbox(client.name)
    const requestId = await sendRequest(db, compliance, client, {
      email,
      message: 'Welcome aboard: a few questions before we start.',
    })
    const mail = await db('outbox_emails')
      .where({ company_id: companyId, to_address: email })
      .orderBy('id', 'desc')
      .first('body_text')
    const token = /\/p\/([A-Za-z0-9_-]{43})/.exec(mail?.body_text ?? '')?.[1]
    if (!token) return
    await openLink(db, token, await csrfTokens.secret(), '127.0.0.1')
    const actor = { session: { companyId, requestId }, ip: '127.0.0.1' }
    const request = await db('portal_requests').where({ id: requestId }).first('schema')
    const questionnaire = questionnaireOfRequest(request)
    await saveAnswers(
      db,
      actor,
      questionsOnPage(questionnaire, 1),
      {
        registered_name: client.name,
        registration_number: client.registration_number ?? 'HRB 20417',
        country_of_incorporation: client.country_of_incorporation ?? 'GB',
        legal_form: client.legal_form ?? 'Private limited company',
      },
      true,
    )
    await saveAnswers(
      db,
      actor,
      questionsOnPage(questionnaire, 2),
      {
        nature_of_business: 'Wholesale of office furniture to businesses in the UK and Ireland.',
        beneficial_owners: 'Margaret Holt, born 1968-04-02, British, 62%; Daniel Okafor, born 1975-09-17, Irish, 38%',
      },
      true,
    )
    const upload = await storeUpload(
      storage,
      { filename: 'certificate-of-incorporation.pdf', stream: Readable.from([DEMO_PDF]) },
      20 * 1024 * 1024,
    )
    await addUpload(db, actor, 'certificate_of_incorporation', upload)
    await submitRequest(db, actor, publicUrl)
  }
  const toApprove = await db('portal_requests')
    .where({ company_id: companyId, entity_id: approved.id })
    .first('id', 'version')
  await approveSubmission(db, admin, approved.id, toApprove.id, toApprove.version)
}
