import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { parseInput, idParam } from '../http/validate';
import { createProduct, productInput, updateProduct } from './products';
import { ORDER_TYPES, MAX_PRICE, BARCODE, type ProductInput } from './schema';

/** /api/v1/products create and update (scope catalog:write), over the services the back office uses. */

const id = z.number().int().positive();
const fields = {
  name: z.string().trim().min(1).max(80),
  categoryId: id,
  price: z.number().int().min(0).max(MAX_PRICE),
  taxRateId: id,
  taxRates: z.object({ counter: id.nullable(), takeaway: id.nullable(), dine_in: id.nullable() }).partial().strict(),
  sku: z.string().trim().min(1).max(40).nullable(),
  barcodes: z.array(z.string().regex(BARCODE, '4 to 32 letters, digits or dashes')).max(50),
  stationId: id.nullable(),
  modifierGroupIds: z.array(id).max(50),
  available: z.boolean(),
  openPrice: z.boolean(),
  active: z.boolean(),
  position: z.number().int().min(0).max(100_000),
  trackStock: z.boolean(),
  lowStockAt: z.number().int().min(0).max(1_000_000).nullable(),
};
const ProductCreate = z.object(fields).partial().required({ name: true, categoryId: true, price: true, taxRateId: true }).strict();
const ProductPatch = z.object(fields).partial().strict();
type Body = z.infer<typeof ProductPatch>;

function merged(base: ProductInput, b: Body): ProductInput {
  const taxRateByType = { ...base.taxRateByType };
  for (const t of ORDER_TYPES) {
    const v = b.taxRates?.[t];
    if (v === null) delete taxRateByType[t];
    else if (v !== undefined) taxRateByType[t] = v;
  }
  return {
    name: b.name ?? base.name, categoryId: b.categoryId ?? base.categoryId, price: b.price ?? base.price, taxRateId: b.taxRateId ?? base.taxRateId, taxRateByType,
    sku: b.sku !== undefined ? b.sku : base.sku, barcodes: b.barcodes ?? base.barcodes, stationId: b.stationId !== undefined ? b.stationId : base.stationId,
    modifierGroupIds: b.modifierGroupIds ?? base.modifierGroupIds, available: b.available ?? base.available, openPrice: b.openPrice ?? base.openPrice,
    active: b.active ?? base.active, position: b.position ?? base.position, trackStock: b.trackStock ?? base.trackStock, lowStockAt: b.lowStockAt !== undefined ? b.lowStockAt : base.lowStockAt,
  };
}

const EMPTY: ProductInput = {
  name: '', categoryId: 0, price: 0, taxRateId: 0, taxRateByType: {}, sku: null, barcodes: [], stationId: null, modifierGroupIds: [],
  available: true, openPrice: false, active: true, position: 0, trackStock: false, lowStockAt: null,
};

/** A product as the API answers a write (OpenAPI: ProductWritten). */
export async function productWrittenJson(db: Db, productId: number) {
  const p = await productInput(db, productId);
  return {
    id: p.id, name: p.name, categoryId: p.categoryId, price: p.price, taxRateId: p.taxRateId,
    taxRates: Object.fromEntries(ORDER_TYPES.map((t) => [t, p.taxRateByType[t] ?? null])),
    sku: p.sku, barcodes: p.barcodes, stationId: p.stationId, modifierGroupIds: p.modifierGroupIds, available: p.available, openPrice: p.openPrice,
    active: p.active, position: p.position, stock: p.stock, lowStockAt: p.lowStockAt,
  };
}

export function catalogApiRoutes(router: Router, deps: { db: Db; clock: Clock; events: Publisher; auth: Middleware; scope: Middleware }): void {
  const { auth, scope } = deps;
  // a write through the API has no staff member: the audit log names the token in the terminal's place
  const who = () => ({ staffId: null });
  router.post('/products', auth, scope, async (ctx) => {
    const b = parseInput(ProductCreate, ctx.request.body);
    const productId = await createProduct(deps, merged(EMPTY, b), who());
    ctx.status = 201;
    ctx.body = await productWrittenJson(deps.db, productId);
  });
  router.patch('/products/:id', auth, scope, async (ctx) => {
    const productId = idParam(ctx, 'id');
    const b = parseInput(ProductPatch, ctx.request.body);
    await updateProduct(deps, productId, merged(await productInput(deps.db, productId), b), who());
    ctx.body = await productWrittenJson(deps.db, productId);
  });
}
