import Router from '@koa/router';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { requires } from '../auth/middleware';
import { audit } from '../audit/service';
import { formView, render, type FormView } from '../http/render';
import { idParam, parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import { createSubscription, deleteSubscription, listSubscriptions, WEBHOOK_EVENTS } from '../webhooks/service';
import { API_SCOPES, createApiToken, listApiTokens, parseScopes, revokeApiToken } from './tokens';

const list = z.union([z.array(z.string()), z.string()]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
const NewToken = z.object({ name: z.string().trim().min(1).max(80), scopes: list });
const NewWebhook = z.object({ url: z.string().trim().min(1).max(2000), events: list.pipe(z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'choose at least one event')) });

/** Back office: API tokens and webhook subscriptions (owner: settings:edit). */
export function integrationRoutes(deps: { db: Db; clock: Clock }): Router {
  const router = new Router();
  const need = requires('settings:edit', deps);
  const page = async (extra: object = {}) => ({
    settings: await getSettings(deps.db),
    tokens: await listApiTokens(deps.db),
    webhooks: await listSubscriptions(deps.db),
    scopes: API_SCOPES,
    events: WEBHOOK_EVENTS,
    ...extra,
  });

  // a refused form comes back with what was typed and the message beside its field (docs/UI.md, "Form errors")
  const form = (formId: string, messages: Record<string, string>): FormView => ({ page: 'backoffice/integrations.html', formId: () => formId, data: () => page(), messages });
  const tokenForm = form('token-form', { name: 'Give the token a name (up to 80 characters).' });
  const webhookForm = form('webhook-form', { events: 'Choose at least one event.' });

  router.get('/backoffice/integrations', need, async (ctx) => render(ctx, 'backoffice/integrations.html', null, await page()));

  router.post('/backoffice/integrations/tokens', need, formView(tokenForm), async (ctx) => {
    const input = parseInput(NewToken, ctx.request.body);
    const { token, record } = await createApiToken(deps.db, deps.clock, { name: input.name, scopes: parseScopes(input.scopes), createdBy: ctx.state.auth.staff!.id });
    await audit(deps.db, deps.clock, { action: 'settings_changed', staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal!.id, details: { apiToken: { created: record.id, name: record.name, scopes: record.scopes } } });
    render(ctx, 'backoffice/integrations.html', null, await page({ newToken: token, newTokenName: record.name }));
  });

  router.post('/backoffice/integrations/tokens/:id/revoke', need, async (ctx) => {
    const id = idParam(ctx, 'id');
    await revokeApiToken(deps.db, deps.clock, id);
    await audit(deps.db, deps.clock, { action: 'settings_changed', staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal!.id, details: { apiToken: { revoked: id } } });
    render(ctx, 'backoffice/integrations.html', null, await page());
  });

  router.post('/backoffice/integrations/webhooks', need, formView(webhookForm), async (ctx) => {
    const input = parseInput(NewWebhook, ctx.request.body);
    const sub = await createSubscription(deps.db, deps.clock, input);
    await audit(deps.db, deps.clock, { action: 'settings_changed', staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal!.id, details: { webhook: { created: sub.id, url: sub.url, events: sub.events } } });
    render(ctx, 'backoffice/integrations.html', null, await page({ newSecret: sub.secret, newSecretUrl: sub.url }));
  });

  router.post('/backoffice/integrations/webhooks/:id/delete', need, async (ctx) => {
    const id = idParam(ctx, 'id');
    await deleteSubscription(deps.db, id);
    await audit(deps.db, deps.clock, { action: 'settings_changed', staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal!.id, details: { webhook: { deleted: id } } });
    render(ctx, 'backoffice/integrations.html', null, await page());
  });

  return router;
}
