import path from 'node:path';

/**
 * Where views and static files live. From source that is the repository root; the packaged
 * binary sets STORE_ASSET_ROOT (scripts/build) to where it unpacks its assets.
 */
export const rootDir: string = process.env.STORE_ASSET_ROOT ?? path.resolve(__dirname, '..');
export const viewsDir = path.join(rootDir, 'views');
export const staticDir = path.join(rootDir, 'static');
