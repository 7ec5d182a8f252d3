/**
 * Spellings reduced to what transliterations agree on, so that variants of one name compare as equal or one
 * edit apart. Both work on a token already in Latin lower case (normalise.ts).
 */

/**
 * Common transliteration variants folded together, for comparing Latin spellings: dj/dzh→j (Cyrillic Дж),
 * kh→h (Khalid/Halid, Mikhail/Mihail), th→s (Arabic ث: Uthman/Usman), ph→f, q/c/ck→k, x→ks, v→f
 * (-ov/-off), o/ou/oo→u (Omar/Umar, Yousef/Yusuf), ee→i (Saeed/Said), ey/ei/ay→ai (Hussein/Husayn,
 * Sergey/Sergei), final -iy/-y→i (Dmitriy/Dmitri), doubled letters single (Hassan/Hasan), final -ah→a
 * (Hamzah/Hamza), final d→t (Ahmad/Ahmet: final devoicing in Turkish and Slavic spellings).
 */
export function foldSpelling(text: string): string {
  return text
    .replace(/dzh|dj/g, 'j')
    .replace(/kh/g, 'h')
    .replace(/th/g, 's')
    .replace(/ph/g, 'f')
    .replace(/ck/g, 'k')
    .replace(/q/g, 'k')
    .replace(/c(?!h)/g, 'k')
    .replace(/x/g, 'ks')
    .replace(/v/g, 'f')
    .replace(/ou|oo|o/g, 'u')
    .replace(/ee/g, 'i')
    .replace(/(?:ey|ei|ay)(?=[^aeiou]|$)/g, 'ai')
    .replace(/(?:iy|y)$/, 'i')
    .replace(/(.)\1+/g, '$1')
    .replace(/(?<=..)ah$/, 'a')
    .replace(/(?<=...)d$/, 't')
}

/**
 * Consonants only, for names written in an abjad (Arabic script writes no short vowels). W and y go too:
 * Arabic writes the long vowels ū and ī with the letters Latin spellings render as vowels ("يوسف" ywsf,
 * "Yusuf"); a final h goes (tā' marbūṭa, "Hamzah"). "Hussein" and "حسين" are both "hsn".
 */
export function consonantSkeleton(text: string): string {
  const skeleton = text
    .replace(/[0-9]/g, '')
    .replace(/q/g, 'k')
    .replace(/c(?!h)/g, 'k')
    .replace(/ph/g, 'f')
    .replace(/v/g, 'f')
    .replace(/x/g, 'ks')
    .replace(/[aeiouwy]/g, '')
    .replace(/(.)\1+/g, '$1')
  return skeleton.length > 2 ? skeleton.replace(/h$/, '') : skeleton
}
