import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, gitOf, treeAt, type Tree } from './server';

/**
 * The "before" of the comparison: a commit checked out in a temporary worktree of this
 * repository (`git worktree add /tmp/bench-base-<sha> <ref>`), with this tree's node_modules
 * linked in, so its server starts as this tree's does. Removed again by `remove()`.
 */
export interface BaseTree {
  tree: Tree;
  /** the worktree goes, with its link to node_modules */
  remove(): Promise<void>;
}

/** The full commit a ref names here, or undefined when there is none. */
export function resolveRef(ref: string): string | undefined {
  return gitOf(ROOT, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]) || undefined;
}

export async function checkOutBase(ref: string, log: (msg: string) => void): Promise<BaseTree> {
  const sha = resolveRef(ref);
  if (!sha) throw new Error(`git knows no commit ${JSON.stringify(ref)} in ${ROOT}`);
  const dir = path.join('/tmp', `bench-base-${sha.slice(0, 12)}`);
  const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // a worktree left by a run that was killed: used again when it is at the right commit
  const left = fs.existsSync(path.join(dir, '.git')) && gitOf(dir, ['rev-parse', 'HEAD']) === sha;
  if (!left) {
    if (fs.existsSync(dir)) {
      try {
        git(['worktree', 'remove', '--force', dir]);
      } catch {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      git(['worktree', 'prune']);
    }
    log(`checking out ${ref} (${sha.slice(0, 7)}) in ${dir}`);
    git(['worktree', 'add', '--detach', dir, sha]);
  } else {
    log(`using the worktree left in ${dir} (${sha.slice(0, 7)})`);
  }
  const modules = path.join(dir, 'node_modules');
  if (!fs.existsSync(modules)) fs.symlinkSync(path.join(ROOT, 'node_modules'), modules, 'dir');
  // its node_modules is a link the bench made, not a change to the commit
  const tree = treeAt(dir, 'before', { untracked: false });
  return {
    tree,
    async remove() {
      try {
        fs.rmSync(modules, { force: true });
        git(['worktree', 'remove', '--force', dir]);
      } catch (err) {
        log(`could not remove the worktree ${dir}: ${(err as Error).message.split('\n')[0]}`);
      }
    },
  };
}
