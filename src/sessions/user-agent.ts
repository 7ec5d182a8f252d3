import Bowser from 'bowser'

/**
 * A browser's User-Agent header in words, for the sessions pages: "Chrome 156 on Linux", "Safari 17 on iOS
 * 17.4", "Firefox 128 on Windows 10". Parsed by bowser (MIT, no dependencies): keeping up with the world's
 * user-agent strings is that library's whole job. Undefined for a missing header; the header as it is when
 * bowser recognises neither browser nor system.
 */
export function browserInWords(userAgent: string | null | undefined): string | undefined {
  if (!userAgent) return undefined
  const { browser, os } = Bowser.parse(userAgent)
  const major = browser.version?.split('.')[0]
  const name = browser.name ? `${browser.name}${major ? ` ${major}` : ''}` : undefined
  const system = os.name
    ? `${os.name}${os.versionName ? ` ${os.versionName}` : os.version ? ` ${os.version}` : ''}`
    : undefined
  if (name && system) return `${name} on ${system}`
  return name ?? (system ? `A browser on ${system}` : userAgent)
}
