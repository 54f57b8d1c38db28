import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requires } from '../auth/middleware';
import { formView, redirectAfterPost, render, toast, type FormView } from '../http/render';
import { idParam, parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import { exportCatalogCsv, importCatalogCsv, CSV_COLUMNS } from './csv';
import { createProduct, listAllProducts, productInput, updateProduct, type CatalogDeps, type Who } from './products';
import { BulkPriceForm, CategoryForm, modifierGroupForm, ORDER_TYPE_NAMES, ORDER_TYPES, productForm, TaxRateForm, type ProductInput } from './schema';
import { bulkPriceChange, listAllCategories, listModifierGroups, listStations, listTaxRates, saveCategory, saveModifierGroup, saveTaxRate } from './sections';
import { notFound } from '../errors';
import { currencyExponent } from '../money';

/** The back office's catalog pages (issue 24): products, categories, modifier groups, tax rates, bulk prices, CSV. */

const who = (ctx: Context): Who => ({ staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal?.id ?? null, approvedBy: ctx.state.auth.approver?.id ?? null });

const decimal = (n: number, exp: number) => (exp ? (n / 10 ** exp).toFixed(exp) : String(n));

/** A product as its form shows it: the fields' names and what one would type. */
function asForm(p: ProductInput, exp: number) {
  return {
    name: p.name, category_id: String(p.categoryId), price: decimal(p.price, exp), tax_rate_id: String(p.taxRateId),
    ...Object.fromEntries(ORDER_TYPES.map((t) => [`tax_rate_${t}`, p.taxRateByType[t] === undefined ? '' : String(p.taxRateByType[t])])),
    sku: p.sku ?? '', barcodes: p.barcodes.join(' '), station_id: p.stationId === null ? '' : String(p.stationId),
    modifier_group_ids: p.modifierGroupIds.map(String), available: p.available, open_price: p.openPrice, active: p.active,
    position: String(p.position), track_stock: p.trackStock, low_stock_at: p.lowStockAt === null ? '' : String(p.lowStockAt),
  };
}

const PRODUCT_MESSAGES: Record<string, string> = {
  name: 'Give the product a name (up to 80 characters).',
  price: 'A price like 4.20.',
  category_id: 'Choose a category.',
  tax_rate_id: 'Choose a tax rate.',
};

export function catalogRoutes(deps: CatalogDeps): Router {
  const router = new Router();
  const need = requires('catalog:edit', deps);
  const exp = (s: BusinessSettings) => currencyExponent(s.currency) ?? 2;
  const lists = async () => ({
    settings: await getSettings(deps.db), categories: await listAllCategories(deps.db), taxRates: await listTaxRates(deps.db),
    stations: await listStations(deps.db), groups: await listModifierGroups(deps.db), orderTypes: ORDER_TYPES.map((t) => ({ id: t, name: ORDER_TYPE_NAMES[t] })),
  });
  const productPage = async (ctx: Context) => {
    const id = ctx.params.id ? idParam(ctx, 'id') : undefined;
    const product = id ? await productInput(deps.db, id) : undefined;
    return { ...(await lists()), product };
  };
  const productView: FormView = { page: 'catalog/product.html', data: productPage, messages: PRODUCT_MESSAGES };

  router.get('/backoffice/products', need, async (ctx) => {
    const q = parseInput(z.object({ category: z.coerce.number().int().positive().optional().catch(undefined), q: z.string().trim().max(80).optional().catch(undefined) }), ctx.query);
    const settings = await getSettings(deps.db);
    render(ctx, 'catalog/products.html', null, {
      settings, categories: await listAllCategories(deps.db), taxRates: await listTaxRates(deps.db), category: q.category, search: q.q ?? '',
      products: await listAllProducts(deps.db, { categoryId: q.category, search: q.q || undefined }),
    });
  });

  router.get('/backoffice/products/new', need, async (ctx) => {
    const data = await lists();
    const category = Number(ctx.query.category) || data.categories[0]?.id;
    render(ctx, 'catalog/product.html', null, { ...data, form: { available: true, active: true, category_id: String(category ?? ''), tax_rate_id: String(data.taxRates[0]?.id ?? ''), price: '', position: '0' } });
  });

  router.post('/backoffice/products', need, formView(productView), async (ctx) => {
    const settings = await getSettings(deps.db);
    const input = parseInput(productForm(settings.currency), ctx.request.body);
    await createProduct(deps, input, who(ctx));
    redirectAfterPost(ctx, `/backoffice/products?category=${input.categoryId}`, { toast: `${input.name} is on the terminals now.` });
  });

  router.get('/backoffice/products/:id', need, async (ctx) => {
    const data = await productPage(ctx);
    render(ctx, 'catalog/product.html', null, { ...data, form: asForm(data.product!, exp(data.settings)) });
  });

  router.post('/backoffice/products/:id', need, formView(productView), async (ctx) => {
    const id = idParam(ctx, 'id');
    const settings = await getSettings(deps.db);
    const input = parseInput(productForm(settings.currency), ctx.request.body);
    await updateProduct(deps, id, input, who(ctx));
    redirectAfterPost(ctx, `/backoffice/products?category=${input.categoryId}`, { toast: `${input.name} saved. Lines already on orders keep their price.` });
  });

  router.post('/backoffice/products-bulk-price', need, formView({ page: 'catalog/products.html', data: async () => ({ ...(await lists()), products: await listAllProducts(deps.db), bulkOpen: true }) }), async (ctx) => {
    const settings = await getSettings(deps.db);
    const input = parseInput(BulkPriceForm, ctx.request.body);
    const n = await bulkPriceChange(deps, { categoryId: input.category_id, kind: input.kind, value: input.value, currency: settings.currency }, who(ctx));
    redirectAfterPost(ctx, `/backoffice/products${input.category_id ? `?category=${input.category_id}` : ''}`, { toast: `${n} price${n === 1 ? '' : 's'} changed.` });
  });

  // ---- categories, tax rates, modifier groups: a list with a form per row and one to add ----
  const sectionView = (page: string, rows: () => Promise<object>): FormView => ({
    page, data: async () => ({ settings: await getSettings(deps.db), ...(await rows()) }), formId: (ctx) => (ctx.params.id ? `edit-${ctx.params.id}` : 'new'),
  });
  const categoriesView = sectionView('catalog/categories.html', async () => ({ categories: await listAllCategories(deps.db) }));
  router.get('/backoffice/categories', need, async (ctx) => render(ctx, 'catalog/categories.html', null, await categoriesView.data(ctx)));
  router.post('/backoffice/categories', need, formView(categoriesView), async (ctx) => {
    const input = parseInput(CategoryForm, { active: 'on', ...(ctx.request.body as object) });
    await saveCategory(deps, input, who(ctx));
    redirectAfterPost(ctx, '/backoffice/categories', { toast: `${input.name} added.` });
  });
  router.post('/backoffice/categories/:id', need, formView(categoriesView), async (ctx) => {
    const input = parseInput(CategoryForm, ctx.request.body);
    await saveCategory(deps, input, who(ctx), idParam(ctx, 'id'));
    redirectAfterPost(ctx, '/backoffice/categories', { toast: `${input.name} saved.` });
  });

  const taxView = sectionView('catalog/tax_rates.html', async () => ({ taxRates: await listTaxRates(deps.db) }));
  router.get('/backoffice/tax-rates', need, async (ctx) => render(ctx, 'catalog/tax_rates.html', null, await taxView.data(ctx)));
  router.post('/backoffice/tax-rates', need, formView(taxView), async (ctx) => {
    const input = parseInput(TaxRateForm, ctx.request.body);
    await saveTaxRate(deps, input, who(ctx));
    redirectAfterPost(ctx, '/backoffice/tax-rates', { toast: `${input.name} added.` });
  });
  router.post('/backoffice/tax-rates/:id', need, formView(taxView), async (ctx) => {
    const input = parseInput(TaxRateForm, ctx.request.body);
    await saveTaxRate(deps, input, who(ctx), idParam(ctx, 'id'));
    redirectAfterPost(ctx, '/backoffice/tax-rates', { toast: `${input.name} saved. Items already on orders keep the rate they had.` });
  });

  const groupsView = sectionView('catalog/modifier_groups.html', async () => {
    const e = exp(await getSettings(deps.db));
    // the options as the form's lines: "Name" or "Name, price change"
    const groups = (await listModifierGroups(deps.db)).map((g) => ({
      ...g, optionsText: g.options.map((o: { name: string; price_delta: number }) => (o.price_delta ? `${o.name}, ${decimal(o.price_delta, e)}` : o.name)).join('\n'),
    }));
    return { groups };
  });
  router.get('/backoffice/modifier-groups', need, async (ctx) => render(ctx, 'catalog/modifier_groups.html', null, await groupsView.data(ctx)));
  router.post('/backoffice/modifier-groups', need, formView(groupsView), async (ctx) => {
    const settings = await getSettings(deps.db);
    const input = parseInput(modifierGroupForm(settings.currency), ctx.request.body);
    await saveModifierGroup(deps, input, who(ctx));
    redirectAfterPost(ctx, '/backoffice/modifier-groups', { toast: `${input.name} added: choose it on a product to offer it.` });
  });
  router.post('/backoffice/modifier-groups/:id', need, formView(groupsView), async (ctx) => {
    const id = idParam(ctx, 'id');
    if (!(await deps.db('modifier_groups').where({ id }).first('id'))) throw notFound('That modifier group');
    const settings = await getSettings(deps.db);
    const input = parseInput(modifierGroupForm(settings.currency), ctx.request.body);
    await saveModifierGroup(deps, input, who(ctx), id);
    redirectAfterPost(ctx, '/backoffice/modifier-groups', { toast: `${input.name} saved.` });
  });

  // ---- CSV ----
  router.get('/backoffice/catalog/export.csv', need, async (ctx) => {
    const settings = await getSettings(deps.db);
    ctx.set('Content-Disposition', 'attachment; filename="catalog.csv"');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = await exportCatalogCsv(deps.db, settings.currency);
  });
  router.get('/backoffice/catalog/import', need, async (ctx) => {
    render(ctx, 'catalog/import.html', null, { settings: await getSettings(deps.db), columns: CSV_COLUMNS, form: {} });
  });
  router.post('/backoffice/catalog/import', need, async (ctx) => {
    const input = parseInput(z.object({ csv: z.string().max(250_000), valid_only: z.string().optional() }), ctx.request.body);
    const settings = await getSettings(deps.db);
    const report = await importCatalogCsv(deps, input.csv, { currency: settings.currency, validOnly: input.valid_only === 'on' }, who(ctx));
    const refused = Boolean(report.fileError) || (report.failed > 0 && report.imported === 0);
    if (refused) ctx.status = 422;
    else toast(ctx, `${report.imported} product${report.imported === 1 ? '' : 's'} imported.`);
    render(ctx, 'catalog/import.html', 'catalog/_import_report.html', { settings, columns: CSV_COLUMNS, report, refused, form: { csv: input.csv, valid_only: input.valid_only === 'on' } });
  });

  return router;
}
