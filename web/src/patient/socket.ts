/** How many times the subscription socket has connected (0: not yet). Placeholder until the
 * shared client exposes its graphql-ws "connected" event. */
import { useEffect, useState } from "react";
import { ws } from "../lib/api";

let connections = 0;
const listeners = new Set<(n: number) => void>();
ws.on("connected", () => {
  connections += 1;
  for (const l of listeners) l(connections);
});

export function useSocketEpoch(): number {
  const [epoch, setEpoch] = useState(connections);
  useEffect(() => {
    listeners.add(setEpoch);
    setEpoch(connections);
    return () => void listeners.delete(setEpoch);
  }, []);
  return epoch;
}
