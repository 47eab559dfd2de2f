/** The host's console output: one line per event, levels filtered, user logs tagged by function. */
export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

const RANK: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
  none: 6,
};

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
  functionLog(functionName: string, invocationId: string, level: string, category: string, message: string): void;
}

export function createConsoleLogger(
  minLevel: LogLevel = 'information',
  write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
): Logger {
  const enabled = (level: string) => (RANK[level as LogLevel] ?? RANK.information) >= RANK[minLevel];
  const stamp = () => new Date().toISOString();
  return {
    info: (m) => enabled('information') && write(`[${stamp()}] ${m}`),
    warn: (m) => enabled('warning') && write(`[${stamp()}] warning: ${m}`),
    error: (m, err) => {
      if (!enabled('error')) return;
      const detail = err instanceof Error ? ` ${err.stack ?? err.message}` : err === undefined ? '' : ` ${String(err)}`;
      write(`[${stamp()}] error: ${m}${detail}`);
    },
    functionLog: (fn, id, level, category, message) => {
      if (category === 'system' && !enabled('debug') && level !== 'error' && level !== 'warning') return;
      if (!enabled(level)) return;
      write(`[${stamp()}] [${fn}] ${level === 'information' ? '' : level + ': '}${message} (${id.slice(0, 8)})`);
    },
  };
}
