// Two pages: the client app (index.html) and GraphiQL (graphiql.html), so GraphiQL's editor
// weight never reaches the patient portal. The output is Python package data, served by the API.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  // Relative URLs: index.html is served at `/`, graphiql.html at `/graphql`; both find ./assets/.
  base: './',
  build: {
    outDir: '../app/web/client',
    emptyOutDir: true,
    sourcemap: false,
    // Monaco (GraphiQL's editor) is large by nature; it is only loaded on /graphql.
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // GraphiQL's packages carry React Compiler directives that bundling drops harmlessly.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
      input: {
        index: 'index.html',
        graphiql: 'graphiql.html',
      },
      output: {
        // React is shared by both pages; a named chunk keeps the client's files readable.
        codeSplitting: {
          groups: [{ name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ }],
        },
      },
    },
  },
  // GraphiQL's Monaco workers are `?worker` imports that dependency pre-bundling cannot load;
  // `npm run dev` is for the client app (GraphiQL is the API server's, at /graphql).
  optimizeDeps: { entries: ['index.html'], exclude: ['graphiql', '@graphiql/react'] },
  server: {
    // `npm run dev` proxies the API so the dev page and /graphql share one origin.
    proxy: {
      '/graphql': { target: process.env.API_URL ?? 'http://127.0.0.1:8000', ws: true },
    },
  },
});
