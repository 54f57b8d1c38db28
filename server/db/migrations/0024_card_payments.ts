import type { Knex } from 'knex';

/**
 * Card payments through Stripe Terminal (issue 22; server/payments/).
 *
 * - `payments` gains a status: a card payment is written `pending` before Stripe is called and
 *   becomes `succeeded`, `failed` or `canceled`; cash payments are `succeeded` when written. Only
 *   `succeeded` payments count as paid anywhere. A card payment keeps the exact parameters of its
 *   PaymentIntent create (`card_request`), so a replay with the same Idempotency-Key after a crash
 *   sends identical parameters; `card_ref` makes that key unique across stores sharing one Stripe
 *   account. Only the PaymentIntent and charge ids, brand and last4 are kept: no card number.
 * - `card_readers`: Stripe Terminal readers (server-driven), each bound to at most one terminal.
 * - `refunds` gains a status, the card payment it went back to and the Stripe refund id: a card
 *   refund is written `pending` (no receipt number, no journal entry) before Stripe is called,
 *   and gets its receipt number and journal entry once Stripe says it went through.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('card_readers', (t) => {
    t.bigIncrements('id');
    t.text('stripe_reader_id').notNullable().unique();
    t.text('label').notNullable();
    t.text('device_type').notNullable();
    t.text('serial_number');
    t.bigInteger('terminal_id').references('terminals.id').unique();
    t.text('status'); // online / offline as Stripe last said
    t.timestamp('status_checked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.raw('ALTER TABLE payments DROP CONSTRAINT payments_method');
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_method CHECK (method IN ('cash', 'card'))");
  await knex.schema.alterTable('payments', (t) => {
    t.text('status').notNullable().defaultTo('succeeded');
    t.uuid('card_ref');
    t.jsonb('card_request');
    t.text('stripe_payment_intent_id').unique();
    t.text('stripe_charge_id');
    t.text('card_brand');
    t.text('card_last4');
    t.bigInteger('reader_id').references('card_readers.id');
    t.boolean('tip_on_reader').notNullable().defaultTo(false);
    t.text('card_state'); // waiting / processing: what the terminal shows while pending
    t.text('failure_message');
    t.timestamp('settled_at', { useTz: true });
  });
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_status CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled'))");
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_card CHECK (method <> 'card' OR (card_ref IS NOT NULL AND card_request IS NOT NULL))");
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_cash_settled CHECK (method <> 'cash' OR status = 'succeeded')");
  await knex.raw("CREATE INDEX payments_pending ON payments (id) WHERE status = 'pending'");

  await knex.raw('ALTER TABLE refunds ALTER COLUMN receipt_no DROP NOT NULL, ALTER COLUMN journal_seq DROP NOT NULL');
  await knex.schema.alterTable('refunds', (t) => {
    t.text('status').notNullable().defaultTo('succeeded');
    t.bigInteger('payment_id').references('payments.id');
    t.uuid('card_ref');
    t.jsonb('card_request'); // what was asked: lines or amount, so the refund is recorded as asked
    t.text('stripe_refund_id').unique();
    t.text('failure_message');
    t.index(['payment_id']);
  });
  await knex.raw("ALTER TABLE refunds ADD CONSTRAINT refunds_status CHECK (status IN ('pending', 'succeeded', 'failed'))");
  await knex.raw("ALTER TABLE refunds ADD CONSTRAINT refunds_recorded CHECK (status <> 'succeeded' OR (receipt_no IS NOT NULL AND journal_seq IS NOT NULL))");
  await knex.raw("ALTER TABLE refunds ADD CONSTRAINT refunds_method CHECK (method IN ('cash', 'card') AND (method = 'cash' OR payment_id IS NOT NULL))");
  await knex.raw("CREATE INDEX refunds_pending ON refunds (id) WHERE status = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refunds_pending');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_method, DROP CONSTRAINT refunds_recorded, DROP CONSTRAINT refunds_status');
  await knex.schema.alterTable('refunds', (t) => {
    for (const c of ['status', 'payment_id', 'card_ref', 'card_request', 'stripe_refund_id', 'failure_message']) t.dropColumn(c);
  });
  await knex.raw('ALTER TABLE refunds ALTER COLUMN receipt_no SET NOT NULL, ALTER COLUMN journal_seq SET NOT NULL');
  await knex.raw('DROP INDEX payments_pending');
  await knex.raw('ALTER TABLE payments DROP CONSTRAINT payments_status, DROP CONSTRAINT payments_card, DROP CONSTRAINT payments_cash_settled');
  await knex.schema.alterTable('payments', (t) => {
    for (const c of ['status', 'card_ref', 'card_request', 'stripe_payment_intent_id', 'stripe_charge_id', 'card_brand', 'card_last4', 'reader_id', 'tip_on_reader', 'card_state', 'failure_message', 'settled_at']) t.dropColumn(c);
  });
  await knex.raw('ALTER TABLE payments DROP CONSTRAINT payments_method');
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_method CHECK (method IN ('cash'))");
  await knex.schema.dropTable('card_readers');
}
