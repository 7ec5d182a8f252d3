import nodemailer from 'nodemailer'
import type { MailTransport } from './outbox.js'

/** Delivery through SMTP_URL with nodemailer (one connection per message; volumes are small). */
export function smtpTransport(smtpUrl: string): MailTransport {
  const transporter = nodemailer.createTransport(smtpUrl)
  return {
    async send(message) {
      await transporter.sendMail(message)
    },
  }
}
