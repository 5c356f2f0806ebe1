import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Client, cacheExchange, fetchExchange, Provider } from "urql";
import { App } from "./app";
import "./styles.css";

// A signed-in browser sends its session cookie and the CSRF header Kiln asks of cookie sessions.
const client = new Client({
  url: "/graphql",
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: { credentials: "same-origin", headers: { "x-kiln-csrf": "1" } },
});

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <Provider value={client}>
      <App />
    </Provider>
  </StrictMode>,
);
