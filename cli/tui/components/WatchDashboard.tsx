import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { useNow } from '../hooks/useNow.js';
import { formatElapsed } from '../run-state.js';
import { throughputPerMinute, type WatchStatus } from '../watch-state.js';
import { fit, fitLeft, useTheme } from '../theme.js';
import { Frame, type KeyHint } from './Frame.js';
import { useLayout } from '../layout.js';

export interface WatchConfig {
  pipeline?: string;
  folder?: string;
  out?: string;
}

export interface WatchDashboardProps {
  status: WatchStatus;
  config: WatchConfig;
  message?: string;
  onStart: () => void;
  onStop: () => void;
  onPickFolder: () => void;
  onPickPipeline: () => void;
  onOut: () => void;
  onBack: () => void;
}

/** Screen 6: the watch dashboard: folder, queue, running, done, failed, throughput, last errors; s starts, x stops. */
export function WatchDashboard({ status, config, message, onStart, onStop, onPickFolder, onPickPipeline, onOut, onBack }: WatchDashboardProps) {
  const theme = useTheme();
  const active = status.state !== 'stopped';
  const now = useNow(active, 1000);
  useKeys((input, key) => {
    if (input === 's' && !active) onStart();
    else if (input === 'x' && active) onStop();
    else if (input === 'f' && !active) onPickFolder();
    else if (input === 'p' && !active) onPickPipeline();
    else if (input === 'o' && !active) onOut();
    else if (key.escape || key.backspace || key.delete) onBack();
  });
  const keys: KeyHint[] = active
    ? [{ key: 'x', label: 'stop watching' }, { key: 'esc', label: 'back (keeps watching)' }, { key: '?', label: 'help' }]
    : [{ key: 's', label: 'start' }, { key: 'f', label: 'folder' }, { key: 'p', label: 'pipeline' }, { key: 'o', label: 'out dir' }, { key: 'esc', label: 'back' }, { key: '?', label: 'help' }];
  const stateColor = status.state === 'watching' ? theme.ok : status.state === 'stopped' ? theme.muted : theme.warn;
  const rate = throughputPerMinute(status, now);
  const up = status.startedAt && active ? formatElapsed(now - status.startedAt) : '-';
  const { width } = useLayout();
  return (
    <Frame title="watch" keys={keys}>
      <Text wrap="truncate">
        state: <Text bold color={stateColor}>{status.state}</Text>
        {active ? `   up ${up}` : ''}
      </Text>
      <Text wrap="truncate">{fit(`folder:   ${config.folder ? fitLeft(config.folder, width - 12) : '(f to pick)'}`, width)}</Text>
      <Text wrap="truncate">{fit(`pipeline: ${config.pipeline ? fitLeft(config.pipeline, width - 12) : '(p to pick)'}`, width)}</Text>
      <Text wrap="truncate">{fit(`out:      ${config.out ? fitLeft(config.out, width - 12) : '(o to set)'}`, width)}</Text>
      <Box marginTop={1} flexDirection="column">
        <Text wrap="truncate">
          {`queued ${status.queued}   running ${status.running.length}   `}
          <Text color={theme.ok}>{`done ${status.done}`}</Text>
          {'   '}
          <Text color={status.failed ? theme.error : undefined}>{`failed ${status.failed}`}</Text>
          {`   ${rate.toFixed(1)} files/min`}
        </Text>
        {status.running.slice(0, 3).map((r) => (
          <Text key={r} wrap="truncate">
            {fit(`  running: ${fitLeft(r, width - 14)}`, width)}
          </Text>
        ))}
      </Box>
      <Box marginTop={1} flexDirection="column">
        <Text bold>last errors</Text>
        {status.lastErrors.length === 0 ? <Text color={theme.muted}>none</Text> : null}
        {status.lastErrors.map((e, i) => (
          <Text key={i} color={theme.error} wrap="truncate">
            {fit(`${new Date(e.at).toISOString().slice(11, 19)} ${fitLeft(e.input, 24)}${e.node ? ` [${e.node}${e.op ? ` ${e.op}` : ''}]` : ''} ${e.message}`, width)}
          </Text>
        ))}
        {status.warnings.slice(-2).map((w, i) => (
          <Text key={`w${i}`} color={theme.warn} wrap="truncate">
            {fit(`warning: ${w}`, width)}
          </Text>
        ))}
      </Box>
      {message ? <Text color={theme.error} wrap="truncate">{fit(message, width)}</Text> : null}
    </Frame>
  );
}
