import { HidScannerSource } from './hid-source';
import { scannerContract } from './scanner-contract';
import { SimulatedHidSource } from './simulated-source';

describe('scanner contract', () => {
  describe('on the simulated HID source (the real decoder)', () => {
    scannerContract(async () => {
      const source = new SimulatedHidSource();
      return { source, scan: async (code) => source.scan(code), waitMs: 1000 };
    });
  });

  // SCANNER_PATH=/dev/hidrawN of a USB HID scanner; a person scans any barcode when asked
  const real = process.env.SCANNER_PATH;
  (real ? describe : describe.skip)(
    real ? `on the real scanner at ${real} (scan any barcode within 30 s)` : 'on a real scanner: skipped, SCANNER_PATH (/dev/hidrawN) is not set',
    function () {
      this.timeout(40_000);
      scannerContract(async () => ({
        source: new HidScannerSource({ match: { path: real! }, log: (m) => process.stderr.write(`      ${m}\n`) }),
        scan: async () => void process.stderr.write('      scan a barcode now\n'),
        waitMs: 30_000,
      }));
    },
  );
});
