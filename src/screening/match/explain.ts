/**
 * A hit, told so a reviewer can check it: which list name matched, which tokens paired and how closely, what
 * was left over, and what the date of birth, the country and the kind of entry did to the score. Plain JSON,
 * so that the screening record can keep it as the reason for the alert.
 */
import type { NameToken } from './normalise.js'
import type { EntryScore, PreparedEntry } from './score.js'
import type { MatchExplanation, PotentialMatch, ScreeningQuery } from './types.js'

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

function texts(tokens: NameToken[], indexes: number[]): string[] {
  return indexes.map((i) => tokens[i]?.text ?? '')
}

export function explain(
  query: ScreeningQuery,
  queryTokens: NameToken[],
  prepared: PreparedEntry,
  result: EntryScore,
): MatchExplanation {
  const { entry } = prepared
  const listTokens = prepared.names[result.name] ?? []
  const name = entry.names[result.name]
  const { comparison } = result
  const confirmedBy = result.confirmedBy
  return {
    matchedName: name?.name ?? entry.name,
    quality: name?.quality ?? 'strong',
    originalScript: name?.originalScript === true,
    pairs: comparison.pairs.map((p) => ({
      query: queryTokens[p.q]?.text ?? '',
      list: listTokens[p.l]?.text ?? '',
      similarity: round(p.similarity),
    })),
    unpairedQuery: texts(queryTokens, comparison.unpairedQuery),
    unpairedList: texts(listTokens, comparison.unpairedList),
    nameScore: round(comparison.score),
    birthDate: { query: query.birthDate ?? null, list: result.birthDate.list, effect: result.birthDate.effect },
    country: { query: query.country ?? null, list: entry.countries, effect: result.country },
    schema: { query: query.schema ?? null, list: entry.schema, effect: result.schema },
    ...(confirmedBy && {
      confirmedBy: { name: entry.names[confirmedBy.name]?.name ?? entry.name, score: round(confirmedBy.score) },
    }),
    score: round(result.score),
  }
}

export function toPotentialMatch(
  query: ScreeningQuery,
  queryTokens: NameToken[],
  prepared: PreparedEntry,
  result: EntryScore,
): PotentialMatch {
  const { entry } = prepared
  return {
    list: entry.list,
    entryId: entry.entryId,
    name: entry.name,
    schema: entry.schema,
    topics: entry.topics,
    score: round(result.score),
    explanation: explain(query, queryTokens, prepared, result),
  }
}
