/**
 * What every part of the dashboard reads: the store, the services, the key table, the colours
 * and the runner's callbacks, given once by the App (gemini-cli's contexts, one here).
 */
import { createContext, useContext } from 'react';
import type { KeyTable } from './keys.js';
import type { DashboardServices } from './services.js';
import type { DashboardStore } from './store.js';
import type { Paint } from './theme.js';

export interface Dashboard {
  store: DashboardStore;
  services: DashboardServices;
  keys: KeyTable;
  paint: Paint;
  /** The user asked to attach to this session (the runner hands the terminal over). */
  onAttach: (session: string) => void;
  onQuit: () => void;
  refreshPolicy: () => Promise<void>;
}

export const DashboardContext = createContext<Dashboard | undefined>(undefined);

export function useDashboard(): Dashboard {
  const dashboard = useContext(DashboardContext);
  if (!dashboard) throw new Error('useDashboard outside <App>');
  return dashboard;
}
