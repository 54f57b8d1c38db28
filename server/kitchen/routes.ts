import Router from '@koa/router';
import type { Context } from 'koa';
import { requires } from '../auth/middleware';
import { notFound } from '../errors';
import { render } from '../http/render';
import { idParam } from '../http/validate';
import { getSettings } from '../settings/service';
import * as kitchen from './service';

/** The kitchen screens: /kitchen/:station and the expo view of all stations. */
export function kitchenRoutes(deps: kitchen.KitchenDeps): Router {
  const router = new Router();
  const need = requires('kitchen:bump', deps);

  const stationOf = async (ctx: Context): Promise<{ id: number | 'expo'; name: string }> => {
    const raw = ctx.params.station;
    if (raw === 'expo') return { id: 'expo', name: 'Expo — all stations' };
    const id = idParam(ctx, 'station');
    const s = await deps.db('stations').where({ id }).first();
    if (!s) throw notFound('That station');
    return { id: s.id, name: s.name };
  };
  const data = async (station: { id: number | 'expo'; name: string }) => {
    const settings = await getSettings(deps.db);
    return {
      settings, station,
      tickets: await kitchen.openTickets(deps.db, deps.clock, station.id),
      allDay: await kitchen.allDay(deps.db, station.id),
      warnSeconds: settings.kitchenWarnMinutes * 60,
      lateSeconds: settings.kitchenLateMinutes * 60,
    };
  };

  router.get('/kitchen', need, async (ctx) => {
    const t = ctx.state.auth.terminal!;
    if (t.default_station_id) return ctx.redirect(`/kitchen/${t.default_station_id}`);
    render(ctx, 'kitchen/choose.html', null, { settings: await getSettings(deps.db), stations: await deps.db('stations').orderBy(['position', 'id']) });
  });

  router.get('/kitchen/:station', need, async (ctx) => {
    render(ctx, 'kitchen/screen.html', null, await data(await stationOf(ctx)));
  });

  /** The full list: what a screen loads on (re)connect, so it never misses or doubles a ticket. */
  router.get('/kitchen/:station/tickets', need, async (ctx) => {
    render(ctx, 'kitchen/_tickets.html', 'kitchen/_tickets.html', await data(await stationOf(ctx)));
  });

  router.post('/kitchen/:station/recall', need, async (ctx) => {
    const station = await stationOf(ctx);
    await kitchen.recallLast(deps, station.id);
    render(ctx, 'kitchen/_tickets.html', 'kitchen/_tickets.html', await data(station));
  });

  router.post('/kitchen/tickets/:id/bump', need, async (ctx) => {
    await kitchen.bumpTicket(deps, idParam(ctx, 'id'));
    ctx.status = 204;
  });

  router.post('/kitchen/items/:id/bump', need, async (ctx) => {
    await kitchen.bumpItem(deps, idParam(ctx, 'id'));
    ctx.status = 204;
  });

  return router;
}
