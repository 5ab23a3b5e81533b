// What a round is made of, for the screens that make one (plan on map, public reports): the
// municipality's inspectors and the published checklists, loaded once per municipality.
import { useEffect, useState } from "preact/hooks";
import { api } from "./context";

export interface Inspector {
  id: number;
  name: string;
}
export interface Checklist {
  id: number;
  name_ar: string;
  name_en: string;
}

export function useRoundChoices(municipalityId: number | null): { inspectors: Inspector[]; checklists: Checklist[] } {
  const [inspectors, setInspectors] = useState<Inspector[]>([]);
  const [checklists, setChecklists] = useState<Checklist[]>([]);
  useEffect(() => {
    api.get<{ items: Inspector[] }>("inspectors", { municipality: municipalityId }).then((page) => setInspectors(page.items), () => undefined);
    api.get<{ items: Checklist[] }>("checklists", { published: "true" }).then((page) => setChecklists(page.items), () => undefined);
  }, [municipalityId]);
  return { inspectors, checklists };
}
