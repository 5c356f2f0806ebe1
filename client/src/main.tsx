import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Client, cacheExchange, fetchExchange, mapExchange, Provider } from "urql";
import { App } from "./app";
import { SessionGate } from "./session";
import "./styles.css";

// A signed-in browser sends its session cookie and the CSRF header Kiln asks of cookie sessions.
// An answer of 401 means the session ended: the gate checks /auth/status and shows the sign-in form.
const client = new Client({
  url: "/graphql",
  exchanges: [
    mapExchange({
      onError(error) {
        if ((error.response as Response | undefined)?.status === 401) window.dispatchEvent(new Event("kiln:unauthenticated"));
      },
    }),
    cacheExchange,
    fetchExchange,
  ],
  fetchOptions: { credentials: "same-origin", headers: { "x-kiln-csrf": "1" } },
});

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <SessionGate>
      {({ status, signOut }) => (
        <Provider value={client}>
          <App user={status.auth === "off" ? null : { name: status.user ?? "?", scope: status.scope ?? "read" }} onSignOut={signOut} />
        </Provider>
      )}
    </SessionGate>
  </StrictMode>,
);
