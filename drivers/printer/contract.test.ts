import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeEscposPrinter } from '../../test/fakes/escpos-printer';
import { NetworkPrinter } from './network-printer';
import { printerContract } from './printer-contract';
import { defaultProfile } from './profile';
import { SimulatedPrinter } from './simulated-printer';

describe('printer contract', () => {
  describe('on the simulated printer', () => {
    printerContract(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prints-'));
      const profile = defaultProfile(80);
      return { printer: new SimulatedPrinter({ dir, profile }), profile, dispose: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    });
  });

  describe('on a network printer: the fake ESC/POS printer on loopback', () => {
    printerContract(async () => {
      const fake = new FakeEscposPrinter();
      fake.columns = 48;
      const address = await fake.start();
      const profile = defaultProfile(80);
      return {
        printer: new NetworkPrinter({ address, profile }),
        profile,
        dispose: async () => {
          await fake.stop();
          if (fake.errors.length > 0) throw new Error(`the fake printer refused: ${fake.errors.join('; ')}`);
        },
      };
    });
  });

  // PRINTER_ADDR=host:port of an Epson-compatible 80 mm printer (PRINTER_COLUMNS=42 if it has 42)
  const real = process.env.PRINTER_ADDR;
  (real ? describe : describe.skip)(
    real ? `on the real printer at ${real} (prints test slips)` : 'on a real printer: skipped, PRINTER_ADDR (host:port) is not set',
    () => {
      printerContract(async () => {
        const profile = defaultProfile(80, { columns: process.env.PRINTER_COLUMNS === '42' ? 42 : 48 });
        return { printer: new NetworkPrinter({ address: real!, profile }), profile, dispose: async () => undefined };
      });
    },
  );
});
