import { StrictMode, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { Provider } from "urql";
import { Dashboard } from "./dashboard/dashboard";
import { DriveDrawerRoute, JobDrawerRoute } from "./drawer/drive-drawer";
import { History } from "./history/history";
import { Hosts } from "./hosts/hosts";
import { type Account, Layout } from "./layout";
import { LiveProvider } from "./live";
import { SessionGate } from "./session";
import { SettingsPage } from "./settings/settings";
import { createClient } from "./urql";
import "./styles.css";

/** Every screen has its own URL: a drawer link can be sent to a colleague. */
function routerFor(user: Account | null, onSignOut: () => void) {
  return createBrowserRouter([
    {
      element: <Layout user={user} onSignOut={onSignOut} />,
      children: [
        {
          path: "/",
          element: <Dashboard />,
          children: [
            { path: "drives/:id", element: <DriveDrawerRoute /> },
            { path: "jobs/:id", element: <JobDrawerRoute /> },
          ],
        },
        { path: "/history", element: <History /> },
        { path: "/hosts", element: <Hosts /> },
        { path: "/settings", element: <SettingsPage /> },
        { path: "*", element: <p className="empty">No such page.</p> },
      ],
    },
  ]);
}

function App({ user, onSignOut }: { user: Account | null; onSignOut: () => void }) {
  const client = useMemo(() => createClient(() => window.dispatchEvent(new Event("kiln:unauthenticated"))), []);
  const router = useMemo(() => routerFor(user, onSignOut), [user?.name, user?.scope, onSignOut]);
  return (
    <Provider value={client}>
      <LiveProvider>
        <RouterProvider router={router} />
      </LiveProvider>
    </Provider>
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <SessionGate>
      {({ status, signOut }) => (
        <App user={status.auth === "off" ? null : { name: status.user ?? "?", scope: status.scope ?? "read" }} onSignOut={signOut} />
      )}
    </SessionGate>
  </StrictMode>,
);
