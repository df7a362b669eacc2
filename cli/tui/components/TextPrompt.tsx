import { Box, Text } from 'ink';
import { useRef, useState } from 'react';
import { useKeys } from '../hooks/useKeys.js';
import { useTheme } from '../theme.js';

/**
 * A one-line text field: type, backspace, enter to submit, esc to cancel. A chunk of
 * several characters (a paste) is applied character by character, a newline in it submits.
 */
export function TextPrompt({ label, initial, onSubmit, onCancel }: { label: string; initial: string; onSubmit: (text: string) => void; onCancel: () => void }) {
  const theme = useTheme();
  const ref = useRef(initial);
  const [text, setText] = useState(initial);
  const update = (t: string) => {
    ref.current = t;
    setText(t);
  };
  useKeys((input, key) => {
    if (key.return) onSubmit(ref.current);
    else if (key.escape) onCancel();
    else if (key.backspace || key.delete) update(ref.current.slice(0, -1));
    else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow && !key.tab) {
      let t = ref.current;
      for (const ch of input) {
        if (ch === '\r' || ch === '\n') {
          update(t);
          onSubmit(t);
          return;
        }
        if (ch === '\u007F' || ch === '\b') t = t.slice(0, -1);
        else if (ch >= ' ') t += ch;
      }
      update(t);
    }
  });
  return (
    <Box>
      <Text color={theme.accent}>{label}: </Text>
      <Text wrap="truncate">{text}</Text>
      <Text inverse> </Text>
    </Box>
  );
}
