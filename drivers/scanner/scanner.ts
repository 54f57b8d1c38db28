/**
 * A barcode scanner as the server sees it: a source of scanned codes. The server binds each
 * source to a terminal; a source that cannot work (no node-hid, no device) says so and emits nothing.
 */
export interface ScannerSource {
  /** Starts listening; resolves once the source is running, waiting for its device, or off. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called with every complete code (the characters before Enter). */
  onScan(listener: (code: string) => void): void;
  readonly state: ScannerState;
  /** the last thing the source said about its device ("… is not readable by this user; …"), for the back office */
  readonly detail?: string;
}

/**
 * - 'off': the scanner feature cannot work on this machine (node-hid did not load);
 * - 'waiting': looking for the device (not plugged in, unplugged, or its node not readable);
 * - 'open': reading the device.
 */
export type ScannerState = 'stopped' | 'off' | 'waiting' | 'open';
