import t from 'tap'
import { checkDeclaration, safeReturnPath } from '../../src/plugins/app/guard.js'

t.test('a route that declares nothing, or an unknown permission, is refused', async (t) => {
  t.throws(() => checkDeclaration({ method: 'GET', url: '/x', config: {} }), /declares no access/)
  t.throws(() => checkDeclaration({ method: 'GET', url: '/x' }), /declares no access/)
  t.throws(
    () => checkDeclaration({ method: 'GET', url: '/x', config: { access: { permission: 'root' } } as never }),
    /unknown permission/,
  )
  t.throws(
    () => checkDeclaration({ method: 'GET', url: '/x', config: { access: 'everyone' } as never }),
    /unknown permission/,
  )
})

t.test('public, authenticated and permission declarations are accepted', async (t) => {
  t.equal(checkDeclaration({ method: 'GET', url: '/a', config: { access: 'public' } }), 'public')
  t.equal(checkDeclaration({ method: 'GET', url: '/a', config: { access: 'authenticated' } }), 'authenticated')
  t.same(checkDeclaration({ method: 'GET', url: '/a', config: { access: { permission: 'read_data' } } }), {
    permission: 'read_data',
  })
})

t.test('a client-scoped route must take its client from a parameter its URL has', async (t) => {
  t.same(
    checkDeclaration({
      method: 'GET',
      url: '/e/:id',
      config: { access: { permission: 'read_data', client: 'params.id' } },
    }),
    { permission: 'read_data', client: 'params.id' },
  )
  t.throws(
    () =>
      checkDeclaration({
        method: 'GET',
        url: '/e/:id',
        config: { access: { permission: 'read_data', client: 'params.entityId' } },
      }),
    /which its URL does not have/,
  )
  t.same(
    checkDeclaration({
      method: 'GET',
      url: '/bin',
      config: { access: { permission: ['delete_entities', 'permanently_delete_documents'] } },
    }),
    { permission: ['delete_entities', 'permanently_delete_documents'] },
    'a list means any one of them',
  )
  t.throws(
    () => checkDeclaration({ method: 'GET', url: '/x', config: { access: { permission: [] } } }),
    /unknown permission/,
  )
})

t.test('only same-site paths are accepted as a return address', async (t) => {
  t.equal(safeReturnPath('/'), '/')
  t.equal(safeReturnPath('/settings/users?page=2'), '/settings/users?page=2')
  for (const bad of [
    '//evil.test/x',
    'https://evil.test/',
    '/\\evil.test',
    'javascript:alert(1)',
    '',
    'users',
    undefined,
    42,
  ]) {
    t.equal(safeReturnPath(bad), undefined, String(bad))
  }
})
