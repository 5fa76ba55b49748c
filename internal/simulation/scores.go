package simulation

// Scores rate one run against the ideal. The JSON names are those of
// `simulate -json`; the BUNGEE metrics are Herbst et al.'s (SEAMS 2015),
// with supply and demand in dynos, counted second by second.
type Scores struct {
	DynoHours      float64 `json:"dynoHours"`      // Σ supply / 3600
	IdealDynoHours float64 `json:"idealDynoHours"` // Σ demand / 3600
	CostUSD        float64 `json:"costUSD"`        // dynoHours × dyno price
	// SLOViolationMinutes: seconds whose latency exceeded the SLO, / 60;
	// with jobs, the minutes in which the queue's latency did at any second.
	SLOViolationMinutes float64 `json:"sloViolationMinutes"`
	ScaleUps            int     `json:"scaleUps"`
	ScaleDowns          int     `json:"scaleDowns"`
	// AccuracyU and AccuracyO are the mean dynos missing and in excess.
	AccuracyU float64 `json:"accuracyU"`
	AccuracyO float64 `json:"accuracyO"`
	// TimeshareU and TimeshareO are the shares of time under- and over-provisioned.
	TimeshareU float64 `json:"timeshareU"`
	TimeshareO float64 `json:"timeshareO"`
	// Jitter is (supply changes − demand changes) per hour: negative is
	// sluggish, positive is flapping.
	Jitter float64 `json:"jitter"`
	// UnderProvisionedEpisodes are the runs of seconds with supply < demand;
	// MeanUnderProvisionedSeconds their mean length, the reaction time.
	UnderProvisionedEpisodes    int     `json:"underProvisionedEpisodes"`
	MeanUnderProvisionedSeconds float64 `json:"meanUnderProvisionedSeconds"`
	// Notices is how many notices the settings would have sent.
	Notices int `json:"notices"`
}

// IdealScores describe the demand curve itself.
type IdealScores struct {
	DynoHours float64 `json:"dynoHours"`
	CostUSD   float64 `json:"costUSD"`
	// ScaleUps and ScaleDowns are the changes of demand each way: what a
	// perfect autoscaler would do.
	ScaleUps   int `json:"scaleUps"`
	ScaleDowns int `json:"scaleDowns"`
}

// scorer accumulates second by second, in integers where it can so that
// the sums are exact.
type scorer struct {
	price                  float64
	supply, demand         int64
	under, over            int64 // Σ dynos missing, in excess
	underSecs, overSecs    int64
	violations             int64
	ups, downs             int
	demandChanges          int
	lastDemand             int
	episodes, episodeSecs  int64
	inEpisode, seenASecond bool
	// wholeMinutes counts a minute with any second over the SLO as 60
	// seconds over (the job model's SLO).
	wholeMinutes   bool
	seconds        int64
	minuteViolated bool
}

func newScorer(price float64) *scorer { return &scorer{price: price} }

func (s *scorer) scaled(from, to int) {
	if to > from {
		s.ups++
	} else if to < from {
		s.downs++
	}
}

func (s *scorer) second(supply, demand int, violated bool) {
	s.supply += int64(supply)
	s.demand += int64(demand)
	if s.seenASecond && demand != s.lastDemand {
		s.demandChanges++
	}
	s.lastDemand, s.seenASecond = demand, true
	switch {
	case supply < demand:
		s.under += int64(demand - supply)
		s.underSecs++
		if !s.inEpisode {
			s.episodes++
		}
		s.episodeSecs++
		s.inEpisode = true
	case supply > demand:
		s.over += int64(supply - demand)
		s.overSecs++
		s.inEpisode = false
	default:
		s.inEpisode = false
	}
	if !s.wholeMinutes {
		if violated {
			s.violations++
		}
		return
	}
	s.minuteViolated = s.minuteViolated || violated
	if s.seconds++; s.seconds%60 == 0 {
		if s.minuteViolated {
			s.violations += 60
		}
		s.minuteViolated = false
	}
}

func (s *scorer) scores(seconds int) Scores {
	t := float64(seconds)
	out := Scores{
		DynoHours:           float64(s.supply) / 3600,
		IdealDynoHours:      float64(s.demand) / 3600,
		SLOViolationMinutes: float64(s.violations) / 60,
		ScaleUps:            s.ups,
		ScaleDowns:          s.downs,
		AccuracyU:           float64(s.under) / t,
		AccuracyO:           float64(s.over) / t,
		TimeshareU:          float64(s.underSecs) / t,
		TimeshareO:          float64(s.overSecs) / t,
		// Every scale call changes the supply (they always succeed).
		Jitter:                   float64(s.ups+s.downs-s.demandChanges) * 3600 / t,
		UnderProvisionedEpisodes: int(s.episodes),
	}
	out.CostUSD = out.DynoHours * s.price
	if s.episodes > 0 {
		out.MeanUnderProvisionedSeconds = float64(s.episodeSecs) / float64(s.episodes)
	}
	return out
}

// Ideal scores the demand curve of tr under m.
func IdealOf(m Model, tr Trace) IdealScores {
	var sum int64
	var out IdealScores
	for i, rpm := range tr.RPM {
		d := m.demand(tr, rpm)
		sum += int64(d) * 60
		if i > 0 {
			switch prev := m.demand(tr, tr.RPM[i-1]); {
			case d > prev:
				out.ScaleUps++
			case d < prev:
				out.ScaleDowns++
			}
		}
	}
	out.DynoHours = float64(sum) / 3600
	out.CostUSD = out.DynoHours * m.DynoPrice
	return out
}
