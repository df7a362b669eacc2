import { Box, Text, useApp } from 'ink';
import { KeyRouter, useKeys } from './hooks/useKeys.js';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { FilePicker } from './components/FilePicker.js';
import { Frame } from './components/Frame.js';
import { HelpScreen } from './components/HelpScreen.js';
import { ParamEditor } from './components/ParamEditor.js';
import { PipelineGraph } from './components/PipelineGraph.js';
import { PipelineList } from './components/PipelineList.js';
import { Results } from './components/Results.js';
import { RunView } from './components/RunView.js';
import { TextPrompt } from './components/TextPrompt.js';
import { WatchDashboard, type WatchConfig } from './components/WatchDashboard.js';
import { useRun } from './hooks/useRun.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { useWatch } from './hooks/useWatch.js';
import type { PipelineEntry, PipelineView, TuiServices } from './services.js';
import { LayoutContext, layoutFor, TooSmall, tooSmall } from './layout.js';
import { ThemeContext, themeFor } from './theme.js';
import type { WatchController } from './watch-state.js';

export type Screen =
  | { name: 'pipelines' }
  | { name: 'pipeline' }
  | { name: 'params'; node: string }
  | { name: 'files'; input: string }
  | { name: 'folder' }
  | { name: 'pick-pipeline' }
  | { name: 'prompt'; label: string; initial: string; target: 'out' | 'watch-out' }
  | { name: 'run' }
  | { name: 'results' }
  | { name: 'watch' }
  | { name: 'help' };

/** The pipeline being looked at: its view and what the user changed. */
interface Session {
  view: PipelineView;
  params: Record<string, Record<string, unknown>>;
  errors: Record<string, Record<string, string>>;
  inputFiles: Record<string, string | undefined>;
  outDir: string;
}

export interface AppProps {
  services: TuiServices;
  watch?: WatchController;
  /** Open this pipeline file at start. */
  pipeline?: string;
  /** Output folder (default out/<pipeline name>, relative to the working folder). */
  outDir?: string;
  color?: boolean;
}

function newSession(view: PipelineView, outDir: string | undefined): Session {
  return {
    view,
    params: Object.fromEntries(view.nodes.map((n) => [n.id, Object.fromEntries(n.fields.filter((f) => f.value !== undefined).map((f) => [f.name, f.value]))])),
    errors: {},
    inputFiles: Object.fromEntries(view.inputs.map((i) => [i.name, i.file])),
    outDir: outDir ?? join('out', view.name),
  };
}

/**
 * The terminal UI: a stack of screens over TuiServices (pipelines, runs) and a WatchController,
 * laid out to the terminal's size (and again on each resize). Below 80×24 a message says so
 * instead; the screens stay mounted (hidden, keys paused) and come back as they were.
 */
export function App(props: AppProps) {
  const size = useTerminalSize();
  const small = tooSmall(size);
  const layout = useMemo(() => layoutFor(size), [size]);
  return (
    <KeyRouter paused={small}>
      <LayoutContext.Provider value={layout}>
        {small ? <TooSmall size={size} /> : null}
        <Box display={small ? 'none' : 'flex'} flexDirection="column">
          <Screens {...props} />
        </Box>
      </LayoutContext.Provider>
    </KeyRouter>
  );
}

function Screens({ services, watch, pipeline, outDir, color = false }: AppProps) {
  const { exit } = useApp();
  const [stack, setStack] = useState<Screen[]>([{ name: 'pipelines' }]);
  const [entries, setEntries] = useState<PipelineEntry[] | undefined>();
  const [session, setSession] = useState<Session | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [editing, setEditing] = useState(false);
  const [watchConfig, setWatchConfig] = useState<WatchConfig>({});
  const { run, start, cancel } = useRun(services);
  const watcher = useWatch(watch);
  const screen = stack[stack.length - 1];

  const push = useCallback((s: Screen) => setStack((st) => [...st, s]), []);
  const pop = useCallback(() => setStack((st) => (st.length > 1 ? st.slice(0, -1) : st)), []);
  const home = useCallback(() => setStack([{ name: 'pipelines' }]), []);

  const open = useCallback(
    async (file: string) => {
      try {
        const view = await services.openPipeline(file);
        setSession(newSession(view, outDir));
        setMessage(undefined);
        push({ name: 'pipeline' });
      } catch (err) {
        setMessage(err instanceof Error ? err.message.split('\n')[0] : String(err));
      }
    },
    [services, outDir, push],
  );

  useEffect(() => {
    services.listPipelines().then(setEntries, (err: Error) => setMessage(err.message));
    if (pipeline) void open(resolve(services.cwd, pipeline));
  }, [services, pipeline, open]);

  const quit = useCallback(async () => {
    cancel();
    if (watcher.status.state !== 'stopped') await watcher.stop().catch(() => undefined);
    exit();
  }, [cancel, watcher, exit]);

  const typing = editing || screen.name === 'prompt' || screen.name === 'help';
  useKeys(
    (input) => {
      if (input === 'q' && run.status !== 'running') void quit();
      else if (input === '?') push({ name: 'help' });
      else if (input === 'w' && (screen.name === 'pipelines' || screen.name === 'pipeline')) {
        setWatchConfig((c) => ({ ...c, pipeline: c.pipeline ?? session?.view.file, out: c.out ?? (session ? join('out', `watch-${session.view.name}`) : undefined) }));
        push({ name: 'watch' });
      }
    },
    { isActive: !typing },
  );

  const rel = (f: string) => {
    const r = relative(services.cwd, f);
    return r.startsWith('..') || isAbsolute(r) ? f : r;
  };

  const startRun = () => {
    if (!session) return;
    const bad = Object.entries(session.errors).filter(([, e]) => Object.keys(e).length > 0).map(([id]) => id);
    if (bad.length) {
      setMessage(`fix the params of ${bad.join(', ')} first`);
      return;
    }
    const missing = session.view.inputs.filter((i) => !session.inputFiles[i.name]).map((i) => i.name);
    if (missing.length) {
      setMessage(`pick a file for input ${missing.join(', ')} first`);
      return;
    }
    setMessage(undefined);
    start({ view: session.view, params: session.params, inputs: Object.fromEntries(Object.entries(session.inputFiles).filter((e): e is [string, string] => e[1] !== undefined)), outDir: session.outDir });
    push({ name: 'run' });
  };

  const setParam = (node: string, name: string, value: unknown) => {
    if (!session) return;
    const n = session.view.nodes.find((x) => x.id === node)!;
    const next = { ...session.params[node] };
    if (value === undefined) delete next[name];
    else next[name] = value;
    const errors = services.validateParams(n.op, next);
    setMessage(undefined);
    setSession({ ...session, params: { ...session.params, [node]: next }, errors: { ...session.errors, [node]: errors } });
  };

  let body;
  switch (screen.name) {
    case 'pipelines':
      body = <PipelineList entries={entries} error={message} onOpen={(e) => void open(e.file)} />;
      break;
    case 'pipeline':
      body = session ? (
        <PipelineGraph
          view={session.view}
          inputFiles={session.inputFiles}
          params={session.params}
          invalid={Object.entries(session.errors).filter(([, e]) => Object.keys(e).length > 0).map(([id]) => id)}
          outDir={session.outDir}
          message={message}
          cwd={services.cwd}
          onEditNode={(node) => push({ name: 'params', node })}
          onPickInput={(input) => push({ name: 'files', input })}
          onRun={startRun}
          onOutDir={() => push({ name: 'prompt', label: 'output folder', initial: session.outDir, target: 'out' })}
          onBack={() => {
            setMessage(undefined);
            pop();
          }}
        />
      ) : null;
      break;
    case 'params': {
      const node = session?.view.nodes.find((n) => n.id === screen.node);
      body =
        session && node ? (
          <ParamEditor
            node={node}
            values={session.params[node.id] ?? {}}
            errors={session.errors[node.id] ?? {}}
            onChange={(name, value) => setParam(node.id, name, value)}
            onReset={(name) => setParam(node.id, name, node.fields.find((f) => f.name === name && !f.explicit)?.value ?? node.fields.find((f) => f.name === name)?.value)}
            onEditing={setEditing}
            onBack={pop}
          />
        ) : null;
      break;
    }
    case 'files':
      body = (
        <FilePicker
          title={`file for input ${screen.input}`}
          start={services.cwd}
          onPick={(file) => {
            if (session) setSession({ ...session, inputFiles: { ...session.inputFiles, [screen.input]: file } });
            pop();
          }}
          onCancel={pop}
        />
      );
      break;
    case 'folder':
      body = (
        <FilePicker
          title="folder to watch"
          start={services.cwd}
          folders
          onPick={(folder) => {
            setWatchConfig((c) => ({ ...c, folder }));
            pop();
          }}
          onCancel={pop}
        />
      );
      break;
    case 'pick-pipeline':
      body = (
        <PipelineList
          entries={entries}
          onOpen={(e) => {
            setWatchConfig((c) => ({ ...c, pipeline: e.file, out: c.out ?? join('out', `watch-${e.name}`) }));
            pop();
          }}
        />
      );
      break;
    case 'prompt':
      body = (
        <Frame title={screen.label} keys={[{ key: 'enter', label: 'apply' }, { key: 'esc', label: 'cancel' }]}>
          <TextPrompt
            label={screen.label}
            initial={screen.initial}
            onSubmit={(text) => {
              const v = text.trim();
              if (v) {
                if (screen.target === 'out' && session) setSession({ ...session, outDir: v });
                if (screen.target === 'watch-out') setWatchConfig((c) => ({ ...c, out: v }));
              }
              pop();
            }}
            onCancel={pop}
          />
        </Frame>
      );
      break;
    case 'run':
      body = <RunView name={session?.view.name ?? ''} run={run} onCancel={cancel} onResults={() => push({ name: 'results' })} onBack={pop} />;
      break;
    case 'results':
      body = run.summary ? <Results summary={run.summary} cwd={services.cwd} readTable={services.readTable} onBack={pop} onHome={home} /> : null;
      break;
    case 'watch':
      body = (
        <WatchDashboard
          status={watcher.status}
          config={{ ...watchConfig, pipeline: watchConfig.pipeline ? rel(watchConfig.pipeline) : undefined, folder: watchConfig.folder ? rel(watchConfig.folder) : undefined }}
          message={watch ? message : 'the watch engine is not available in this build'}
          onStart={() => {
            const { folder, pipeline: p, out } = watchConfig;
            if (!folder || !p || !out) {
              setMessage(`set the ${[!folder && 'folder (f)', !p && 'pipeline (p)', !out && 'out dir (o)'].filter(Boolean).join(', ')} first`);
              return;
            }
            setMessage(undefined);
            void watcher.start({ folder, pipelineFile: p, outDir: resolve(services.cwd, out) });
          }}
          onStop={() => void watcher.stop()}
          onPickFolder={() => push({ name: 'folder' })}
          onPickPipeline={() => push({ name: 'pick-pipeline' })}
          onOut={() => push({ name: 'prompt', label: 'watch output folder', initial: watchConfig.out ?? 'out/watch', target: 'watch-out' })}
          onBack={() => {
            setMessage(undefined);
            pop();
          }}
        />
      );
      break;
    case 'help':
      body = <HelpScreen onClose={pop} />;
      break;
  }
  return <ThemeContext.Provider value={themeFor(color)}>{body ?? <Text>{basename(services.cwd)}</Text>}</ThemeContext.Provider>;
}
