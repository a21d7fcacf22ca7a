// GraphiQL served by the API at GET /graphql, built from npm so it works with no CDN reachable.
// Queries and mutations go over HTTP with the headers pane; subscriptions go over graphql-ws with
// the headers pane as the `connection_init` payload (the API reads `Authorization` there).
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './graphiql.css';

import {
  createGraphiQLFetcher,
  type Fetcher,
  type FetcherOpts,
  type FetcherParams,
  type FetcherReturnType,
} from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse, type DocumentNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const httpUrl = new URL('/graphql', window.location.href).toString();
const wsUrl = httpUrl.replace(/^http/, 'ws');
const httpFetcher = createGraphiQLFetcher({ url: httpUrl });

/** One WebSocket per set of headers: new headers mean a new `connection_init`. */
let ws: { key: string; client: Client } | null = null;

function wsClientFor(headers: Record<string, unknown>): Client {
  const key = JSON.stringify(headers);
  if (ws?.key !== key) {
    void ws?.client.dispose();
    ws = { key, client: createClient({ url: wsUrl, connectionParams: headers, lazy: true, retryAttempts: 0 }) };
  }
  return ws.client;
}

function isSubscription(params: FetcherParams, document?: DocumentNode): boolean {
  try {
    const ast = document ?? parse(params.query);
    return getOperationAST(ast, params.operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false; // let the server report the syntax error
  }
}

function parseHeaders(opts?: FetcherOpts): Record<string, unknown> {
  const headers = opts?.headers;
  return headers && typeof headers === 'object' ? (headers as Record<string, unknown>) : {};
}

const fetcher: Fetcher = (params, opts) => {
  if (isSubscription(params, opts?.documentAST)) {
    return wsClientFor(parseHeaders(opts)).iterate({
      query: params.query,
      operationName: params.operationName ?? undefined,
      variables: params.variables ?? undefined,
      // graphql-ws yields results as sent on the wire (plain error objects); GraphiQL renders
      // them as it renders HTTP results, only its type says GraphQLError instances.
    }) as unknown as FetcherReturnType;
  }
  return httpFetcher(params, opts);
};

const DEFAULT_QUERY = `# AayuLink Booking API. Sign in with the login mutation, then put
#   {"Authorization": "Bearer <accessToken>"}
# in the Headers pane: it is sent with queries and as the connection_init of subscriptions.

query Specialties {
  specialties {
    id
    name
    doctors { id name timezone consultationFee }
  }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY}>
      {/* The page's heading, in place of GraphiQL's low-contrast logo link. */}
      <GraphiQL.Logo>
        <h1 className="aayulink-graphiql-title">AayuLink Booking API</h1>
      </GraphiQL.Logo>
    </GraphiQL>
  </StrictMode>,
);
