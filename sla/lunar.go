package sla

import (
	"fmt"
	"math"
	"time"
)

// The Vietnamese lunar calendar is computed here rather than taken from a library:
// no Go package for it can be fetched from the module proxy this project uses, and
// the Chinese-calendar packages that can be (e.g. 6tail/lunar-go) compute new moons
// and solar terms for UTC+8, which puts Tết on another day than in Vietnam in some
// years (1985: 21 Jan in Vietnam, 20 Feb in China; 2007: 17 Feb vs 18 Feb).
//
// The algorithm is Hồ Ngọc Đức's "Computing the Vietnamese lunar calendar": new moons
// and the sun's longitude from astronomical series (accurate for 1800–2199), month 11
// is the month containing the winter solstice, and in a year of 13 months the leap
// month is the first one without a major solar term. Every day number below is a
// Julian day number; every instant is taken at the UTC+7 meridian.

// vnTimeZone is the meridian of the Vietnamese calendar, in hours east of UTC.
const vnTimeZone = 7.0

// synodicMonth is the mean length of a lunation in days.
const synodicMonth = 29.530588853

// jdEpoch is the Julian day of the new moon of 1 January 1900, the origin of the
// lunation count k.
const jdEpoch = 2415021.076998695

// LunarDate is a date of the Vietnamese lunar calendar.
type LunarDate struct {
	Year  int  // lunar year, named after the solar year in which it mostly falls
	Month int  // 1–12
	Day   int  // 1–30
	Leap  bool // true for the intercalary (nhuận) month that repeats Month
}

// String formats the date as D/M/Y, with "nhuận" after a leap month.
func (l LunarDate) String() string {
	if l.Leap {
		return fmt.Sprintf("%d/%d nhuận/%d", l.Day, l.Month, l.Year)
	}
	return fmt.Sprintf("%d/%d/%d", l.Day, l.Month, l.Year)
}

// SolarToLunar converts a Gregorian date to the Vietnamese lunar calendar.
func SolarToLunar(year int, month time.Month, day int) LunarDate {
	dayNumber := jdFromDate(day, int(month), year)
	// The published code estimates the lunation from the mean month and tries k+1
	// then k, but the true new moon can stray far enough from the mean to make that
	// pick a month starting the next day (7 May 2054 came out as day 0); step until
	// the month brackets the day.
	k := int(math.Floor((float64(dayNumber) - jdEpoch) / synodicMonth))
	for newMoonDay(k+1) <= dayNumber {
		k++
	}
	for newMoonDay(k) > dayNumber {
		k--
	}
	monthStart := newMoonDay(k)
	a11 := lunarMonth11(year)
	b11 := a11
	lunarYear := year
	if a11 >= monthStart {
		a11 = lunarMonth11(year - 1)
	} else {
		lunarYear = year + 1
		b11 = lunarMonth11(year + 1)
	}
	l := LunarDate{Day: dayNumber - monthStart + 1}
	diff := (monthStart - a11) / 29
	l.Month = diff + 11
	if b11-a11 > 365 { // 13 lunations between two solstice months: one is a leap month
		leap := leapMonthOffset(a11)
		if diff >= leap {
			l.Month = diff + 10
			l.Leap = diff == leap
		}
	}
	if l.Month > 12 {
		l.Month -= 12
	}
	if l.Month >= 11 && diff < 4 {
		lunarYear--
	}
	l.Year = lunarYear
	return l
}

// LunarToSolar converts a Vietnamese lunar date to the Gregorian calendar; it fails
// for a leap month that the year does not have and for a day past the month's end.
func LunarToSolar(l LunarDate) (year int, month time.Month, day int, err error) {
	if l.Month < 1 || l.Month > 12 || l.Day < 1 || l.Day > 30 {
		return 0, 0, 0, fmt.Errorf("lunar date %s: month must be 1–12 and day 1–30", l)
	}
	var a11, b11 int
	if l.Month < 11 {
		a11, b11 = lunarMonth11(l.Year-1), lunarMonth11(l.Year)
	} else {
		a11, b11 = lunarMonth11(l.Year), lunarMonth11(l.Year+1)
	}
	k := int(math.Floor(0.5 + (float64(a11)-jdEpoch)/synodicMonth))
	off := l.Month - 11
	if off < 0 {
		off += 12
	}
	if b11-a11 > 365 {
		leapOff := leapMonthOffset(a11)
		leapMonth := leapOff - 2
		if leapMonth < 0 {
			leapMonth += 12
		}
		if l.Leap && l.Month != leapMonth {
			return 0, 0, 0, fmt.Errorf("lunar date %s: year %d has no leap month %d", l, l.Year, l.Month)
		}
		if l.Leap || off >= leapOff {
			off++
		}
	} else if l.Leap {
		return 0, 0, 0, fmt.Errorf("lunar date %s: year %d has no leap month", l, l.Year)
	}
	monthStart := newMoonDay(k + off)
	if length := newMoonDay(k+off+1) - monthStart; l.Day > length {
		return 0, 0, 0, fmt.Errorf("lunar date %s: that month has %d days", l, length)
	}
	y, m, d := jdToDate(monthStart + l.Day - 1)
	return y, time.Month(m), d, nil
}

// jdFromDate returns the Julian day number of a date, Gregorian from 15 Oct 1582 and
// Julian before.
func jdFromDate(dd, mm, yy int) int {
	a := (14 - mm) / 12
	y := yy + 4800 - a
	m := mm + 12*a - 3
	jd := dd + (153*m+2)/5 + 365*y + y/4 - y/100 + y/400 - 32045
	if jd < 2299161 {
		jd = dd + (153*m+2)/5 + 365*y + y/4 - 32083
	}
	return jd
}

// jdToDate is the inverse of jdFromDate.
func jdToDate(jd int) (year, month, day int) {
	var b, c int
	if jd > 2299160 {
		a := jd + 32044
		b = (4*a + 3) / 146097
		c = a - b*146097/4
	} else {
		c = jd + 32082
	}
	d := (4*c + 3) / 1461
	e := c - 1461*d/4
	m := (5*e + 2) / 153
	day = e - (153*m+2)/5 + 1
	month = m + 3 - 12*(m/10)
	year = b*100 + d - 4800 + m/10
	return year, month, day
}

// newMoon returns the instant (Julian day, UT) of the k-th new moon after 1 Jan 1900.
func newMoon(k int) float64 {
	const dr = math.Pi / 180
	kf := float64(k)
	t := kf / 1236.85 // Julian centuries from 1900-01-01 12:00
	t2 := t * t
	t3 := t2 * t
	jd1 := 2415020.75933 + 29.53058868*kf + 0.0001178*t2 - 0.000000155*t3
	jd1 += 0.00033 * math.Sin((166.56+132.87*t-0.009173*t2)*dr)
	m := 359.2242 + 29.10535608*kf - 0.0000333*t2 - 0.00000347*t3    // sun's mean anomaly
	mpr := 306.0253 + 385.81691806*kf + 0.0107306*t2 + 0.00001236*t3 // moon's mean anomaly
	f := 21.2964 + 390.67050646*kf - 0.0016528*t2 - 0.00000239*t3    // moon's argument of latitude
	// Periodic corrections, term by term as in Meeus (and Hồ Ngọc Đức's code); the
	// signs matter: folding them into -= and += chains is a classic porting bug.
	c1 := (0.1734-0.000393*t)*math.Sin(m*dr) + 0.0021*math.Sin(2*dr*m) -
		0.4068*math.Sin(mpr*dr) + 0.0161*math.Sin(dr*2*mpr) -
		0.0004*math.Sin(dr*3*mpr) +
		0.0104*math.Sin(dr*2*f) - 0.0051*math.Sin(dr*(m+mpr)) -
		0.0074*math.Sin(dr*(m-mpr)) + 0.0004*math.Sin(dr*(2*f+m)) -
		0.0004*math.Sin(dr*(2*f-m)) - 0.0006*math.Sin(dr*(2*f+mpr)) +
		0.0010*math.Sin(dr*(2*f-mpr)) + 0.0005*math.Sin(dr*(2*mpr+m))
	var deltaT float64 // ΔT, terrestrial minus universal time, in days
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	} else {
		deltaT = -0.000278 + 0.000265*t + 0.000262*t2
	}
	return jd1 + c1 - deltaT
}

// sunLongitude returns the sun's apparent longitude in radians, in [0, 2π), at
// Julian day jdn (UT).
func sunLongitude(jdn float64) float64 {
	const dr = math.Pi / 180
	t := (jdn - 2451545.0) / 36525 // Julian centuries from J2000
	t2 := t * t
	m := 357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2 // mean anomaly
	l0 := 280.46645 + 36000.76983*t + 0.0003032*t2                  // mean longitude
	dl := (1.914600 - 0.004817*t - 0.000014*t2) * math.Sin(dr*m)
	dl += (0.019993-0.000101*t)*math.Sin(dr*2*m) + 0.000290*math.Sin(dr*3*m)
	l := (l0 + dl) * dr
	return l - 2*math.Pi*math.Floor(l/(2*math.Pi))
}

// newMoonDay returns the day number, at UTC+7, of the k-th new moon.
func newMoonDay(k int) int {
	return int(math.Floor(newMoon(k) + 0.5 + vnTimeZone/24))
}

// solarTerm returns which 30° sector (0–11) the sun is in at the start of the local
// day dayNumber; sector 9 begins at the winter solstice.
func solarTerm(dayNumber int) int {
	return int(math.Floor(sunLongitude(float64(dayNumber)-0.5-vnTimeZone/24) / math.Pi * 6))
}

// lunarMonth11 returns the day number on which the 11th lunar month that contains the
// winter solstice of solar year yy begins.
func lunarMonth11(yy int) int {
	off := float64(jdFromDate(31, 12, yy)) - 2415021
	k := int(math.Floor(off / synodicMonth))
	nm := newMoonDay(k)
	if solarTerm(nm) >= 9 { // that new moon is after the solstice: take the one before
		nm = newMoonDay(k - 1)
	}
	return nm
}

// leapMonthOffset returns, for a lunar year of 13 months whose month 11 begins on
// day a11, the index after a11 of the leap month: the first month in which the sun
// enters no new sector.
func leapMonthOffset(a11 int) int {
	k := int(math.Floor((float64(a11)-jdEpoch)/synodicMonth + 0.5))
	i := 1
	arc := solarTerm(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = solarTerm(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}
