import assert from 'node:assert/strict';
import { insertWrite, updateByIdWrite, updateWhereWrite } from './write-all';

describe('writes made without a query builder', () => {
  it('an update by id sets the given fields in order, skips undefined ones and keeps null', () => {
    assert.deepEqual(updateByIdWrite('orders', 7, { total: 450, note: undefined, tax_adjustments: null, held_courses: [2] }, 'w'), {
      sql: 'update "orders" set "total" = ?, "tax_adjustments" = ?, "held_courses" = ? where "id" = ?',
      bindings: [450, null, [2], 7],
      name: 'w',
    });
    assert.throws(() => updateByIdWrite('orders', 7, { note: undefined }), /nothing to set/);
  });

  it('an update under conditions names each one, in order, after the fields it sets', () => {
    assert.deepEqual(updateWhereWrite('orders', { total: 450, version: 3 }, { id: 7, version: 2, status: 'open' }), {
      sql: 'update "orders" set "total" = ?, "version" = ? where "id" = ? and "version" = ? and "status" = ?',
      bindings: [450, 3, 7, 2, 'open'],
      name: undefined,
    });
    assert.throws(() => updateWhereWrite('orders', { total: 1 }, {}), /without a where/);
    assert.throws(() => updateWhereWrite('orders', { total: 1 }, { 'id = id or 1': 1 }), /plain identifier/);
  });

  it('an insert returns the row and leaves undefined fields to their defaults', () => {
    assert.deepEqual(insertWrite('payments', { order_id: 1, amount: 500, tip: undefined }), {
      sql: 'insert into "payments" ("order_id", "amount") values (?, ?) returning *',
      bindings: [1, 500],
      name: undefined,
    });
  });

  it('refuses a table or column name that is not a plain identifier', () => {
    assert.throws(() => updateByIdWrite('orders; drop table x', 1, { a: 1 }), /plain identifier/);
    assert.throws(() => insertWrite('payments', { 'amount"': 1 }), /plain identifier/);
    assert.throws(() => updateByIdWrite('orders', 1, { Total: 1 }), /plain identifier/);
  });
});
